package nft

import (
	"encoding/binary"
	"fmt"

	"github.com/nfkit/nfkit/internal/attr"
)

// Chain is an nf_tables chain. It is a base chain, attached to a hook,
// when Hook is not HookNone (like `nft add chain inet t c '{ type filter
// hook input priority 0; policy drop; }'`), and a regular chain otherwise.
type Chain struct {
	Family Family
	Table  string
	Name   string

	// Base chain fields.
	Type     ChainType // filter, nat, route
	Hook     Hook
	Priority int32
	Policy   Policy
	// Devices are the interfaces of a netdev (or inet ingress) chain.
	Devices []string

	Flags   ChainFlags
	Comment string // in the chain's user data, as nft writes it
	// UserData is the raw NFTA_CHAIN_USERDATA; Comment is merged into it.
	UserData []byte

	// Set by the kernel.
	Handle   uint64
	Use      uint32   // references: rules and jumps
	Counters Counters // base chains: packets and bytes that hit the policy

	// WriteCounters makes Add/Create send Counters as the base chain's
	// counter values (NFTA_CHAIN_COUNTERS): a new chain starts from them,
	// an existing one has them replaced. iptables-nft-restore does this
	// for every `:CHAIN POLICY [packets:bytes]` line. Regular chains have
	// no counters (ErrInvalid).
	WriteCounters bool

	devsNested  bool // the kernel listed devices in NFTA_HOOK_DEVS
	devSingle   bool // ... and/or in NFTA_HOOK_DEV
	hasFlags    bool // the kernel listed NFTA_CHAIN_FLAGS (base chains)
	hasCounters bool // the kernel listed NFTA_CHAIN_COUNTERS
	extra       []rawAttr
	hookExtra   []rawAttr
}

func (c *Chain) String() string {
	return fmt.Sprintf("chain %s %s %s", c.Family, c.Table, c.Name)
}

// IsBase reports whether c is a base chain.
func (c *Chain) IsBase() bool { return c.Hook != HookNone }

func (c *Chain) validate() error {
	if !c.Family.valid() {
		return fmt.Errorf("%w: %v: family %v", ErrInvalid, c, c.Family)
	}
	if err := validName("table name", c.Table); err != nil {
		return err
	}
	if err := validName("chain name", c.Name); err != nil {
		return err
	}
	if c.Hook == HookNone {
		if c.Type != "" || c.Policy != PolicyDefault || len(c.Devices) > 0 {
			return fmt.Errorf("%w: %v: type, policy or devices given without a hook", ErrInvalid, c)
		}
		if c.WriteCounters {
			return fmt.Errorf("%w: %v: counters on a regular chain (only base chains have them)", ErrInvalid, c)
		}
		return nil
	}
	if c.Hook&0x80 == 0 {
		if _, ok := hookNum(c.Family, c.Hook); !ok {
			return fmt.Errorf("%w: %v: hook %v does not exist in family %v", ErrInvalid, c, c.Hook, c.Family)
		}
	}
	switch c.Type {
	case ChainTypeFilter:
	case ChainTypeNAT:
		if c.Family != FamilyIPv4 && c.Family != FamilyIPv6 && c.Family != FamilyINet {
			return fmt.Errorf("%w: %v: chain type nat in family %v", ErrInvalid, c, c.Family)
		}
	case ChainTypeRoute:
		if c.Hook != HookOutput || (c.Family != FamilyIPv4 && c.Family != FamilyIPv6 && c.Family != FamilyINet) {
			return fmt.Errorf("%w: %v: chain type route needs family ip/ip6/inet and hook output", ErrInvalid, c)
		}
	case "":
		return fmt.Errorf("%w: %v: base chain without a type", ErrInvalid, c)
	default:
		return fmt.Errorf("%w: %v: chain type %q", ErrInvalid, c, c.Type)
	}
	if c.Policy > PolicyDrop {
		return fmt.Errorf("%w: %v: policy %v", ErrInvalid, c, c.Policy)
	}
	needDev := c.Family == FamilyNetdev || (c.Family == FamilyINet && c.Hook == HookIngress)
	if needDev && len(c.Devices) == 0 {
		return fmt.Errorf("%w: %v: hook %v needs a device", ErrInvalid, c, c.Hook)
	}
	if !needDev && len(c.Devices) > 0 {
		return fmt.Errorf("%w: %v: devices %q on hook %v of family %v", ErrInvalid, c, c.Devices, c.Hook, c.Family)
	}
	for _, d := range c.Devices {
		if d == "" || len(d) > 15 {
			return fmt.Errorf("%w: %v: device name %q (1 to 15 bytes)", ErrInvalid, c, d)
		}
	}
	return nil
}

func (c *Chain) wireHook() uint32 {
	if c.Hook&0x80 != 0 {
		return uint32(c.Hook &^ 0x80)
	}
	n, _ := hookNum(c.Family, c.Hook)
	return n
}

// marshal writes the chain in kernel dump order (nf_tables_fill_chain_info);
// withState adds handle, use and counters.
func (c *Chain) marshal(e *attr.Writer, withState bool) error {
	e.String(attrChainTable, c.Table)
	e.String(attrChainName, c.Name)
	if withState || c.Handle != 0 {
		e.U64(attrChainHandle, c.Handle)
	}
	if c.Hook != HookNone {
		h := e.Begin(attrChainHook)
		e.U32(attrHookNum, c.wireHook())
		e.U32(attrHookPriority, uint32(c.Priority))
		// Kernels since 6.x list devices in NFTA_HOOK_DEVS and, for a
		// single device, also in NFTA_HOOK_DEV; reproduce what was listed,
		// and send one device as HOOK_DEV, several as HOOK_DEVS.
		nested, single := c.devsNested, c.devSingle
		if !nested && !single {
			single = len(c.Devices) == 1
			nested = len(c.Devices) > 1
		}
		if nested && len(c.Devices) > 0 {
			d := e.Begin(attrHookDevs)
			for _, dev := range c.Devices {
				e.String(attrDeviceName, dev)
			}
			e.End(d)
		}
		if single && len(c.Devices) > 0 {
			e.String(attrHookDev, c.Devices[0])
		}
		putRaw(e, c.hookExtra)
		e.End(h)
		switch c.Policy {
		case PolicyAccept:
			e.U32(attrChainPolicy, 1) // NF_ACCEPT
		case PolicyDrop:
			e.U32(attrChainPolicy, 0) // NF_DROP
		}
		if c.WriteCounters && !c.hasCounters {
			// Request form, as iptables-nft-restore writes it: counters
			// before the type, packets before bytes.
			n := e.Begin(attrChainCounters)
			e.U64(attrCounterPackets, c.Counters.Packets)
			e.U64(attrCounterBytes, c.Counters.Bytes)
			e.End(n)
		}
		e.String(attrChainType, string(c.Type))
		if c.hasCounters {
			n := e.Begin(attrChainCounters)
			e.U64(attrCounterBytes, c.Counters.Bytes)
			e.U64(attrCounterPackets, c.Counters.Packets)
			e.End(n)
		}
	}
	if c.hasFlags || c.Flags&^ChainBase != 0 {
		e.U32(attrChainFlags, uint32(c.Flags))
	}
	if withState {
		e.U32(attrChainUse, c.Use)
	}
	ud, err := udataWithComment(c.UserData, udataChainComment, c.Comment)
	if err != nil {
		return fmt.Errorf("%v: %w", c, err)
	}
	if ud != nil {
		e.Bytes(attrChainUserdata, ud)
	}
	putRaw(e, c.extra)
	return nil
}

func (c *Chain) unmarshal(family Family, b []byte) error {
	c.Family = family
	return attr.Walk(b, func(typ uint16, d []byte) error {
		var err error
		switch typ & attr.TypeMask {
		case attrChainTable:
			c.Table = getStr(d)
		case attrChainHandle:
			c.Handle, err = getU64(d)
		case attrChainName:
			c.Name = getStr(d)
		case attrChainHook:
			err = c.unmarshalHook(d)
		case attrChainPolicy:
			var v uint32
			if v, err = getU32(d); err == nil {
				switch v {
				case 0:
					c.Policy = PolicyDrop
				case 1:
					c.Policy = PolicyAccept
				default:
					err = fmt.Errorf("chain policy %d", v)
				}
			}
		case attrChainUse:
			c.Use, err = getU32(d)
		case attrChainType:
			c.Type = ChainType(getStr(d))
		case attrChainCounters:
			c.hasCounters = true
			err = attr.Walk(d, func(t uint16, d []byte) error {
				var err error
				switch t & attr.TypeMask {
				case attrCounterBytes:
					c.Counters.Bytes, err = getU64(d)
				case attrCounterPackets:
					c.Counters.Packets, err = getU64(d)
				}
				return err
			})
		case attrChainFlags:
			var v uint32
			v, err = getU32(d)
			c.Flags = ChainFlags(v)
			c.hasFlags = true
		case attrChainUserdata:
			c.UserData = clone(d)
			c.Comment = udataComment(d, udataChainComment)
		case attrChainPad:
		default:
			c.extra = append(c.extra, rawAttr{typ, clone(d)})
		}
		return err
	})
}

func (c *Chain) unmarshalHook(b []byte) error {
	var num uint32
	err := attr.Walk(b, func(typ uint16, d []byte) error {
		switch typ & attr.TypeMask {
		case attrHookNum:
			if len(d) != 4 {
				return fmt.Errorf("hook number of %d bytes", len(d))
			}
			num = binary.BigEndian.Uint32(d)
		case attrHookPriority:
			v, err := getU32(d)
			c.Priority = int32(v)
			return err
		case attrHookDev:
			c.devSingle = true
			if !c.devsNested {
				c.Devices = append(c.Devices, getStr(d))
			}
		case attrHookDevs:
			c.devsNested = true
			c.Devices = c.Devices[:0]
			return attr.Walk(d, func(t uint16, d []byte) error {
				if t&attr.TypeMask == attrDeviceName {
					c.Devices = append(c.Devices, getStr(d))
				}
				return nil
			})
		default:
			c.hookExtra = append(c.hookExtra, rawAttr{typ, clone(d)})
		}
		return nil
	})
	c.Hook = hookFromNum(c.Family, num)
	return err
}
