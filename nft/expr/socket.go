package expr

// SocketKey is enum nft_socket_keys.
type SocketKey uint32

const (
	SocketTransparent SocketKey = 0 // NFT_SOCKET_TRANSPARENT: IP(V6)_TRANSPARENT set on the socket
	SocketMark        SocketKey = 1 // NFT_SOCKET_MARK: the socket's SO_MARK
	SocketWildcard    SocketKey = 2 // NFT_SOCKET_WILDCARD: bound to 0.0.0.0 / ::
	SocketCgroupv2    SocketKey = 3 // NFT_SOCKET_CGROUPV2: cgroup v2 id at Level
)

func (k SocketKey) String() string {
	return enumString(uint32(k), []string{"transparent", "mark", "wildcard", "cgroupv2"}, "SocketKey")
}

// size is what the key loads (the kernel's nft_socket_init).
func (k SocketKey) size() int {
	switch k {
	case SocketTransparent, SocketWildcard:
		return 1
	case SocketCgroupv2:
		return 8
	}
	return 4
}

// Attribute types (enum nft_socket_attributes); x/sys/unix lacks them.
const (
	attrSocketKey   = 1 // NFTA_SOCKET_KEY
	attrSocketDreg  = 2 // NFTA_SOCKET_DREG
	attrSocketLevel = 3 // NFTA_SOCKET_LEVEL
)

// Socket loads information about the packet's local socket (nft's `socket
// transparent 1`, `socket cgroupv2 level 1 "x"`).
type Socket struct {
	Key          SocketKey
	DestRegister Register
	Level        uint32 // cgroupv2 only
}

func (s *Socket) Name() string { return "socket" }

func (s *Socket) validate() error {
	if s.Key > SocketCgroupv2 || (s.Key != SocketCgroupv2 && s.Level != 0) {
		return invalidf("socket key %d level %d", uint32(s.Key), s.Level)
	}
	return checkReg("socket destination", s.DestRegister, s.Key.size(), false)
}

func (s *Socket) marshal(ae *enc) error {
	ae.U32(attrSocketKey, uint32(s.Key))
	putReg(ae, attrSocketDreg, s.DestRegister)
	if s.Key == SocketCgroupv2 {
		ae.U32(attrSocketLevel, s.Level)
	}
	return nil
}

func (s *Socket) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case attrSocketKey:
			s.Key = SocketKey(ad.U32())
		case attrSocketDreg:
			s.DestRegister = getReg(ad)
		case attrSocketLevel:
			s.Level = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
