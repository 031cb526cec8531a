package expr

// TunnelKey is enum nft_tunnel_keys: what Tunnel loads.
type TunnelKey uint32

const (
	TunnelPath TunnelKey = 0 // NFT_TUNNEL_PATH: 1 byte, whether the packet has tunnel metadata
	TunnelID   TunnelKey = 1 // NFT_TUNNEL_ID: 4 bytes, the tunnel key id (VNI)
)

func (k TunnelKey) String() string { return enumString(uint32(k), []string{"path", "id"}, "TunnelKey") }

func (k TunnelKey) size() int {
	if k == TunnelPath {
		return 1
	}
	return 4
}

// TunnelMode is enum nft_tunnel_mode: which direction's metadata counts.
type TunnelMode uint32

const (
	TunnelModeNone TunnelMode = 0 // NFT_TUNNEL_MODE_NONE: either
	TunnelModeRx   TunnelMode = 1 // NFT_TUNNEL_MODE_RX: received (decapsulated) packets
	TunnelModeTx   TunnelMode = 2 // NFT_TUNNEL_MODE_TX: packets to be encapsulated
)

func (m TunnelMode) String() string {
	return enumString(uint32(m), []string{"none", "rx", "tx"}, "TunnelMode")
}

// Attribute types (enum nft_tunnel_attributes); x/sys/unix lacks them.
const (
	attrTunnelKey  = 1 // NFTA_TUNNEL_KEY
	attrTunnelDreg = 2 // NFTA_TUNNEL_DREG
	attrTunnelMode = 3 // NFTA_TUNNEL_MODE
)

// Tunnel loads the packet's tunnel metadata (collect_md tunnels: vxlan,
// geneve, erspan devices with external): whether it has any, or its key
// id. The kernel offers it in netdev chains only; nft 1.0.6 has no syntax
// for it. The kernel dumps MODE always, so it is always written.
type Tunnel struct {
	Key          TunnelKey
	DestRegister Register
	Mode         TunnelMode
}

func (t *Tunnel) Name() string { return "tunnel" }

func (t *Tunnel) validate() error {
	if t.Key > TunnelID {
		return invalidf("tunnel key %d", uint32(t.Key))
	}
	if t.Mode > TunnelModeTx {
		return invalidf("tunnel mode %d", uint32(t.Mode))
	}
	return checkReg("tunnel destination", t.DestRegister, t.Key.size(), false)
}

func (t *Tunnel) marshal(ae *enc) error {
	ae.U32(attrTunnelKey, uint32(t.Key))
	putReg(ae, attrTunnelDreg, t.DestRegister)
	ae.U32(attrTunnelMode, uint32(t.Mode))
	return nil
}

func (t *Tunnel) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case attrTunnelKey:
			t.Key = TunnelKey(ad.U32())
		case attrTunnelDreg:
			t.DestRegister = getReg(ad)
		case attrTunnelMode:
			t.Mode = TunnelMode(ad.U32())
		default:
			return errUnknownAttr
		}
	}
	return nil
}
