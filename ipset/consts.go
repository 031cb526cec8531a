package ipset

// Kernel constants of the ipset netlink protocol, from
// <linux/netfilter/ipset/ip_set.h>. golang.org/x/sys/unix only has the
// subsystem id (NFNL_SUBSYS_IPSET), so the rest are defined here, typed and
// unexported, with the C name alongside.

// Protocol versions nfkit speaks.
const (
	protocolMax = 7 // IPSET_PROTOCOL
	protocolMin = 6 // IPSET_PROTOCOL_MIN
)

// maxNameLen is IPSET_MAXNAMELEN: names are at most 31 bytes plus NUL.
const maxNameLen = 32

// maxCommentLen is IPSET_MAX_COMMENT_SIZE.
const maxCommentLen = 255

type command uint8

const (
	cmdProtocol command = 1  // IPSET_CMD_PROTOCOL
	cmdCreate   command = 2  // IPSET_CMD_CREATE
	cmdDestroy  command = 3  // IPSET_CMD_DESTROY
	cmdFlush    command = 4  // IPSET_CMD_FLUSH
	cmdRename   command = 5  // IPSET_CMD_RENAME
	cmdSwap     command = 6  // IPSET_CMD_SWAP
	cmdList     command = 7  // IPSET_CMD_LIST
	cmdSave     command = 8  // IPSET_CMD_SAVE
	cmdAdd      command = 9  // IPSET_CMD_ADD
	cmdDel      command = 10 // IPSET_CMD_DEL
	cmdTest     command = 11 // IPSET_CMD_TEST
	cmdHeader   command = 12 // IPSET_CMD_HEADER
	cmdType     command = 13 // IPSET_CMD_TYPE
)

// Command-level attributes (IPSET_ATTR_*).
const (
	attrProtocol    uint16 = 1  // IPSET_ATTR_PROTOCOL
	attrSetName     uint16 = 2  // IPSET_ATTR_SETNAME
	attrTypeName    uint16 = 3  // IPSET_ATTR_TYPENAME
	attrSetName2    uint16 = 3  // IPSET_ATTR_SETNAME2 (rename, swap)
	attrRevision    uint16 = 4  // IPSET_ATTR_REVISION
	attrFamily      uint16 = 5  // IPSET_ATTR_FAMILY
	attrFlags       uint16 = 6  // IPSET_ATTR_FLAGS
	attrData        uint16 = 7  // IPSET_ATTR_DATA
	attrADT         uint16 = 8  // IPSET_ATTR_ADT
	attrLineNo      uint16 = 9  // IPSET_ATTR_LINENO
	attrProtocolMin uint16 = 10 // IPSET_ATTR_PROTOCOL_MIN
	attrRevisionMin uint16 = 10 // IPSET_ATTR_REVISION_MIN
	attrIndex       uint16 = 11 // IPSET_ATTR_INDEX
)

// Create and entry (CADT) attributes, inside IPSET_ATTR_DATA.
const (
	attrIP         uint16 = 1  // IPSET_ATTR_IP / IPSET_ATTR_IP_FROM
	attrIPTo       uint16 = 2  // IPSET_ATTR_IP_TO
	attrCIDR       uint16 = 3  // IPSET_ATTR_CIDR
	attrPort       uint16 = 4  // IPSET_ATTR_PORT / IPSET_ATTR_PORT_FROM
	attrPortTo     uint16 = 5  // IPSET_ATTR_PORT_TO
	attrTimeout    uint16 = 6  // IPSET_ATTR_TIMEOUT
	attrProto      uint16 = 7  // IPSET_ATTR_PROTO
	attrCADTFlags  uint16 = 8  // IPSET_ATTR_CADT_FLAGS
	attrCADTLineNo uint16 = 9  // IPSET_ATTR_CADT_LINENO
	attrMark       uint16 = 10 // IPSET_ATTR_MARK
	attrMarkMask   uint16 = 11 // IPSET_ATTR_MARKMASK
	attrBitMask    uint16 = 12 // IPSET_ATTR_BITMASK (Linux 6.1)

	attrInitVal    uint16 = 17 // IPSET_ATTR_INITVAL
	attrHashSize   uint16 = 18 // IPSET_ATTR_HASHSIZE
	attrMaxElem    uint16 = 19 // IPSET_ATTR_MAXELEM
	attrNetMask    uint16 = 20 // IPSET_ATTR_NETMASK
	attrBucketSize uint16 = 21 // IPSET_ATTR_BUCKETSIZE
	attrResize     uint16 = 22 // IPSET_ATTR_RESIZE
	attrSize       uint16 = 23 // IPSET_ATTR_SIZE
	attrElements   uint16 = 24 // IPSET_ATTR_ELEMENTS
	attrReferences uint16 = 25 // IPSET_ATTR_REFERENCES
	attrMemSize    uint16 = 26 // IPSET_ATTR_MEMSIZE

	attrEther    uint16 = 17 // IPSET_ATTR_ETHER
	attrName     uint16 = 18 // IPSET_ATTR_NAME
	attrNameRef  uint16 = 19 // IPSET_ATTR_NAMEREF
	attrIP2      uint16 = 20 // IPSET_ATTR_IP2
	attrCIDR2    uint16 = 21 // IPSET_ATTR_CIDR2
	attrIP2To    uint16 = 22 // IPSET_ATTR_IP2_TO
	attrIface    uint16 = 23 // IPSET_ATTR_IFACE
	attrBytes    uint16 = 24 // IPSET_ATTR_BYTES
	attrPackets  uint16 = 25 // IPSET_ATTR_PACKETS
	attrComment  uint16 = 26 // IPSET_ATTR_COMMENT
	attrSkbMark  uint16 = 27 // IPSET_ATTR_SKBMARK
	attrSkbPrio  uint16 = 28 // IPSET_ATTR_SKBPRIO
	attrSkbQueue uint16 = 29 // IPSET_ATTR_SKBQUEUE
)

// Address attributes inside an IPSET_ATTR_IP* nest.
const (
	attrIPAddrIPv4 uint16 = 1 // IPSET_ATTR_IPADDR_IPV4
	attrIPAddrIPv6 uint16 = 2 // IPSET_ATTR_IPADDR_IPV6
)

// Command flags (IPSET_ATTR_FLAGS).
const (
	flagListSetName uint32 = 1 << 1 // IPSET_FLAG_LIST_SETNAME
	flagListHeader  uint32 = 1 << 2 // IPSET_FLAG_LIST_HEADER
)

// CADT flags (IPSET_ATTR_CADT_FLAGS).
const (
	cadtBefore       uint32 = 1 << 0 // IPSET_FLAG_BEFORE
	cadtPhysdev      uint32 = 1 << 1 // IPSET_FLAG_PHYSDEV
	cadtNoMatch      uint32 = 1 << 2 // IPSET_FLAG_NOMATCH
	cadtWithCounters uint32 = 1 << 3 // IPSET_FLAG_WITH_COUNTERS
	cadtWithComment  uint32 = 1 << 4 // IPSET_FLAG_WITH_COMMENT
	cadtWithForceAdd uint32 = 1 << 5 // IPSET_FLAG_WITH_FORCEADD
	cadtWithSkbInfo  uint32 = 1 << 6 // IPSET_FLAG_WITH_SKBINFO
)

// Private errnos (enum ipset_errno).
const (
	errProtocol      = 4097 // IPSET_ERR_PROTOCOL
	errFindType      = 4098 // IPSET_ERR_FIND_TYPE
	errMaxSets       = 4099 // IPSET_ERR_MAX_SETS
	errBusy          = 4100 // IPSET_ERR_BUSY
	errExistSetName2 = 4101 // IPSET_ERR_EXIST_SETNAME2
	errTypeMismatch  = 4102 // IPSET_ERR_TYPE_MISMATCH
	errExist         = 4103 // IPSET_ERR_EXIST
	errInvalidCIDR   = 4104 // IPSET_ERR_INVALID_CIDR
	errInvalidMask   = 4105 // IPSET_ERR_INVALID_NETMASK
	errInvalidFamily = 4106 // IPSET_ERR_INVALID_FAMILY
	errTimeout       = 4107 // IPSET_ERR_TIMEOUT
	errReferenced    = 4108 // IPSET_ERR_REFERENCED
	errIPAddrIPv4    = 4109 // IPSET_ERR_IPADDR_IPV4
	errIPAddrIPv6    = 4110 // IPSET_ERR_IPADDR_IPV6
	errCounter       = 4111 // IPSET_ERR_COUNTER
	errComment       = 4112 // IPSET_ERR_COMMENT
	errMarkMask      = 4113 // IPSET_ERR_INVALID_MARKMASK
	errSkbInfo       = 4114 // IPSET_ERR_SKBINFO
	errBitmaskExcl   = 4115 // IPSET_ERR_BITMASK_NETMASK_EXCL

	// Type-specific errnos start at IPSET_ERR_TYPE_SPECIFIC (4352); each
	// kind of set numbers its own from there (ip_set_{hash,bitmap,list}.h).
	errTypeSpecific = 4352 // IPSET_ERR_TYPE_SPECIFIC
)
