package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// MetaKey selects packet meta information (enum nft_meta_keys).
type MetaKey uint32

const (
	MetaLen          MetaKey = unix.NFT_META_LEN
	MetaProtocol     MetaKey = unix.NFT_META_PROTOCOL
	MetaPriority     MetaKey = unix.NFT_META_PRIORITY
	MetaMark         MetaKey = unix.NFT_META_MARK
	MetaIif          MetaKey = unix.NFT_META_IIF
	MetaOif          MetaKey = unix.NFT_META_OIF
	MetaIifname      MetaKey = unix.NFT_META_IIFNAME
	MetaOifname      MetaKey = unix.NFT_META_OIFNAME
	MetaIiftype      MetaKey = unix.NFT_META_IIFTYPE
	MetaOiftype      MetaKey = unix.NFT_META_OIFTYPE
	MetaSkuid        MetaKey = unix.NFT_META_SKUID
	MetaSkgid        MetaKey = unix.NFT_META_SKGID
	MetaNftrace      MetaKey = unix.NFT_META_NFTRACE
	MetaRtclassid    MetaKey = unix.NFT_META_RTCLASSID
	MetaSecmark      MetaKey = unix.NFT_META_SECMARK
	MetaNfproto      MetaKey = unix.NFT_META_NFPROTO
	MetaL4proto      MetaKey = unix.NFT_META_L4PROTO
	MetaBriIifname   MetaKey = unix.NFT_META_BRI_IIFNAME
	MetaBriOifname   MetaKey = unix.NFT_META_BRI_OIFNAME
	MetaPkttype      MetaKey = unix.NFT_META_PKTTYPE
	MetaCPU          MetaKey = unix.NFT_META_CPU
	MetaIifgroup     MetaKey = unix.NFT_META_IIFGROUP
	MetaOifgroup     MetaKey = unix.NFT_META_OIFGROUP
	MetaCgroup       MetaKey = unix.NFT_META_CGROUP
	MetaPrandom      MetaKey = unix.NFT_META_PRANDOM
	MetaSecpath      MetaKey = 25 // NFT_META_SECPATH
	MetaIifkind      MetaKey = 26 // NFT_META_IIFKIND
	MetaOifkind      MetaKey = 27 // NFT_META_OIFKIND
	MetaBriIifpvid   MetaKey = 28 // NFT_META_BRI_IIFPVID
	MetaBriIifvproto MetaKey = 29 // NFT_META_BRI_IIFVPROTO
	MetaTimeNS       MetaKey = 30 // NFT_META_TIME_NS
	MetaTimeDay      MetaKey = 31 // NFT_META_TIME_DAY
	MetaTimeHour     MetaKey = 32 // NFT_META_TIME_HOUR
	MetaSdif         MetaKey = 33 // NFT_META_SDIF
	MetaSdifname     MetaKey = 34 // NFT_META_SDIFNAME
	MetaBriBroute    MetaKey = 35 // NFT_META_BRI_BROUTE (Linux 6.5)
)

var metaKeyNames = [...]string{
	"length", "protocol", "priority", "mark", "iif", "oif", "iifname", "oifname",
	"iiftype", "oiftype", "skuid", "skgid", "nftrace", "rtclassid", "secmark",
	"nfproto", "l4proto", "ibrname", "obrname", "pkttype", "cpu", "iifgroup",
	"oifgroup", "cgroup", "random", "ipsec", "iifkind", "oifkind", "ibrpvid",
	"ibrvproto", "time", "day", "hour", "sdif", "sdifname", "broute",
}

func (k MetaKey) String() string {
	if int(k) < len(metaKeyNames) {
		return metaKeyNames[k]
	}
	return fmt.Sprintf("MetaKey(%d)", uint32(k))
}

// metaKeyLen is the register size each key loads (the kernel's
// nft_meta_get_init), used to check the register has room.
func (k MetaKey) size() int {
	switch k {
	case MetaIifname, MetaOifname, MetaBriIifname, MetaBriOifname, MetaIifkind, MetaOifkind, MetaSdifname:
		return 16 // IFNAMSIZ
	case MetaProtocol, MetaIiftype, MetaOiftype, MetaBriIifpvid, MetaBriIifvproto:
		return 2
	case MetaNfproto, MetaL4proto, MetaPkttype, MetaSecpath, MetaTimeDay, MetaNftrace, MetaBriBroute:
		return 1
	case MetaTimeNS:
		return 8
	}
	return 4
}

// Meta loads meta information Key into DestRegister (nft's `meta l4proto`,
// `iifname`), or, when SourceRegister is set, sets it from SourceRegister
// (`meta mark set 0x10`).
type Meta struct {
	Key            MetaKey
	DestRegister   Register
	SourceRegister Register // non-zero: a set instead of a load
}

func (m *Meta) Name() string { return "meta" }

func (m *Meta) validate() error {
	if m.Key > MetaBriBroute {
		return invalidf("meta key %d", uint32(m.Key))
	}
	if m.SourceRegister != 0 {
		if m.DestRegister != 0 {
			return invalidf("meta %s with both source %s and destination %s", m.Key, m.SourceRegister, m.DestRegister)
		}
		return checkReg("meta source", m.SourceRegister, m.Key.size(), false)
	}
	return checkReg("meta destination", m.DestRegister, m.Key.size(), false)
}

func (m *Meta) marshal(ae *enc) error {
	ae.U32(unix.NFTA_META_KEY, uint32(m.Key))
	if m.SourceRegister != 0 {
		putReg(ae, unix.NFTA_META_SREG, m.SourceRegister)
	} else {
		putReg(ae, unix.NFTA_META_DREG, m.DestRegister)
	}
	return nil
}

func (m *Meta) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_META_KEY:
			m.Key = MetaKey(ad.U32())
		case unix.NFTA_META_DREG:
			m.DestRegister = getReg(ad)
		case unix.NFTA_META_SREG:
			m.SourceRegister = getReg(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
