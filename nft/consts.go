package nft

// Kernel constants from include/uapi/linux/netfilter/nf_tables.h. Those
// golang.org/x/sys/unix lacks (or names differently) are defined here with
// the C name in the comment; all are unexported: the public API speaks in
// typed values.

// nf_tables message types (enum nf_tables_msg_types).
const (
	msgNewTable         = 0  // NFT_MSG_NEWTABLE
	msgGetTable         = 1  // NFT_MSG_GETTABLE
	msgDelTable         = 2  // NFT_MSG_DELTABLE
	msgNewChain         = 3  // NFT_MSG_NEWCHAIN
	msgGetChain         = 4  // NFT_MSG_GETCHAIN
	msgDelChain         = 5  // NFT_MSG_DELCHAIN
	msgNewRule          = 6  // NFT_MSG_NEWRULE
	msgGetRule          = 7  // NFT_MSG_GETRULE
	msgDelRule          = 8  // NFT_MSG_DELRULE
	msgNewSet           = 9  // NFT_MSG_NEWSET
	msgGetSet           = 10 // NFT_MSG_GETSET
	msgDelSet           = 11 // NFT_MSG_DELSET
	msgNewSetElem       = 12 // NFT_MSG_NEWSETELEM
	msgGetSetElem       = 13 // NFT_MSG_GETSETELEM
	msgDelSetElem       = 14 // NFT_MSG_DELSETELEM
	msgNewGen           = 15 // NFT_MSG_NEWGEN
	msgGetGen           = 16 // NFT_MSG_GETGEN
	msgTrace            = 17 // NFT_MSG_TRACE
	msgNewObj           = 18 // NFT_MSG_NEWOBJ
	msgGetObj           = 19 // NFT_MSG_GETOBJ
	msgDelObj           = 20 // NFT_MSG_DELOBJ
	msgGetObjReset      = 21 // NFT_MSG_GETOBJ_RESET
	msgNewFlowtable     = 22 // NFT_MSG_NEWFLOWTABLE
	msgGetFlowtable     = 23 // NFT_MSG_GETFLOWTABLE
	msgDelFlowtable     = 24 // NFT_MSG_DELFLOWTABLE
	msgGetRuleReset     = 25 // NFT_MSG_GETRULE_RESET
	msgDestroyTable     = 26 // NFT_MSG_DESTROYTABLE (Linux 6.3)
	msgDestroyChain     = 27 // NFT_MSG_DESTROYCHAIN
	msgDestroyRule      = 28 // NFT_MSG_DESTROYRULE
	msgDestroySet       = 29 // NFT_MSG_DESTROYSET
	msgDestroySetElem   = 30 // NFT_MSG_DESTROYSETELEM
	msgDestroyObj       = 31 // NFT_MSG_DESTROYOBJ
	msgDestroyFlowtable = 32 // NFT_MSG_DESTROYFLOWTABLE
	msgGetSetElemReset  = 33 // NFT_MSG_GETSETELEM_RESET
)

// enum nft_table_attributes
const (
	attrTableName     = 1 // NFTA_TABLE_NAME
	attrTableFlags    = 2 // NFTA_TABLE_FLAGS
	attrTableUse      = 3 // NFTA_TABLE_USE
	attrTableHandle   = 4 // NFTA_TABLE_HANDLE
	attrTablePad      = 5 // NFTA_TABLE_PAD
	attrTableUserdata = 6 // NFTA_TABLE_USERDATA
	attrTableOwner    = 7 // NFTA_TABLE_OWNER
)

// enum nft_chain_attributes
const (
	attrChainTable    = 1  // NFTA_CHAIN_TABLE
	attrChainHandle   = 2  // NFTA_CHAIN_HANDLE
	attrChainName     = 3  // NFTA_CHAIN_NAME
	attrChainHook     = 4  // NFTA_CHAIN_HOOK
	attrChainPolicy   = 5  // NFTA_CHAIN_POLICY
	attrChainUse      = 6  // NFTA_CHAIN_USE
	attrChainType     = 7  // NFTA_CHAIN_TYPE
	attrChainCounters = 8  // NFTA_CHAIN_COUNTERS
	attrChainPad      = 9  // NFTA_CHAIN_PAD
	attrChainFlags    = 10 // NFTA_CHAIN_FLAGS
	attrChainID       = 11 // NFTA_CHAIN_ID
	attrChainUserdata = 12 // NFTA_CHAIN_USERDATA
)

// enum nft_hook_attributes
const (
	attrHookNum      = 1 // NFTA_HOOK_HOOKNUM
	attrHookPriority = 2 // NFTA_HOOK_PRIORITY
	attrHookDev      = 3 // NFTA_HOOK_DEV
	attrHookDevs     = 4 // NFTA_HOOK_DEVS
	attrDeviceName   = 1 // NFTA_DEVICE_NAME
)

// enum nft_counter_attributes (chain counters and counter objects)
const (
	attrCounterBytes   = 1 // NFTA_COUNTER_BYTES
	attrCounterPackets = 2 // NFTA_COUNTER_PACKETS
)

// enum nft_rule_attributes
const (
	attrRuleTable      = 1  // NFTA_RULE_TABLE
	attrRuleChain      = 2  // NFTA_RULE_CHAIN
	attrRuleHandle     = 3  // NFTA_RULE_HANDLE
	attrRuleExprs      = 4  // NFTA_RULE_EXPRESSIONS
	attrRuleCompat     = 5  // NFTA_RULE_COMPAT
	attrRulePosition   = 6  // NFTA_RULE_POSITION
	attrRuleUserdata   = 7  // NFTA_RULE_USERDATA
	attrRulePad        = 8  // NFTA_RULE_PAD
	attrRuleID         = 9  // NFTA_RULE_ID
	attrRulePositionID = 10 // NFTA_RULE_POSITION_ID
	attrRuleChainID    = 11 // NFTA_RULE_CHAIN_ID

	attrRuleCompatProto = 1 // NFTA_RULE_COMPAT_PROTO
	attrRuleCompatFlags = 2 // NFTA_RULE_COMPAT_FLAGS
)

// enum nft_gen_attributes
const (
	attrGenID       = 1 // NFTA_GEN_ID
	attrGenProcPID  = 2 // NFTA_GEN_PROC_PID
	attrGenProcName = 3 // NFTA_GEN_PROC_NAME
)

// Name limits: NFT_NAME_MAXLEN (256) includes the NUL; NFT_USERDATA_MAXLEN
// bounds every udata blob.
const (
	maxNameLen     = 255
	maxUserDataLen = 256
)

// nftnl udata TLV types as libnftnl/nft write them (libnftnl udata.h).
const (
	udataTableComment = 0 // NFTNL_UDATA_TABLE_COMMENT
	udataChainComment = 0 // NFTNL_UDATA_CHAIN_COMMENT
	udataRuleComment  = 0 // NFTNL_UDATA_RULE_COMMENT
)
