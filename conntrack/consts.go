package conntrack

// Kernel constants from linux/netfilter/nfnetlink_conntrack.h. Almost none of
// them are exported by golang.org/x/sys/unix, so they live here, unexported
// and typed, with the C name in the comment.

// Message types of NFNL_SUBSYS_CTNETLINK (enum cntl_msg_types).
const (
	ctMsgNew            uint8 = 0 // IPCTNL_MSG_CT_NEW
	ctMsgGet            uint8 = 1 // IPCTNL_MSG_CT_GET
	ctMsgDelete         uint8 = 2 // IPCTNL_MSG_CT_DELETE
	ctMsgGetCtrZero     uint8 = 3 // IPCTNL_MSG_CT_GET_CTRZERO
	ctMsgGetStatsCPU    uint8 = 4 // IPCTNL_MSG_CT_GET_STATS_CPU
	ctMsgGetStats       uint8 = 5 // IPCTNL_MSG_CT_GET_STATS
	ctMsgGetDying       uint8 = 6 // IPCTNL_MSG_CT_GET_DYING
	ctMsgGetUnconfirmed uint8 = 7 // IPCTNL_MSG_CT_GET_UNCONFIRMED
)

// Message types of NFNL_SUBSYS_CTNETLINK_EXP (enum ctnl_exp_msg_types).
const (
	expMsgNew         uint8 = 0 // IPCTNL_MSG_EXP_NEW
	expMsgGet         uint8 = 1 // IPCTNL_MSG_EXP_GET
	expMsgDelete      uint8 = 2 // IPCTNL_MSG_EXP_DELETE
	expMsgGetStatsCPU uint8 = 3 // IPCTNL_MSG_EXP_GET_STATS_CPU
)

// enum ctattr_type
const (
	ctaTupleOrig     uint16 = 1  // CTA_TUPLE_ORIG
	ctaTupleReply    uint16 = 2  // CTA_TUPLE_REPLY
	ctaStatus        uint16 = 3  // CTA_STATUS
	ctaProtoinfo     uint16 = 4  // CTA_PROTOINFO
	ctaHelp          uint16 = 5  // CTA_HELP
	ctaNatSrc        uint16 = 6  // CTA_NAT_SRC
	ctaTimeout       uint16 = 7  // CTA_TIMEOUT
	ctaMark          uint16 = 8  // CTA_MARK
	ctaCountersOrig  uint16 = 9  // CTA_COUNTERS_ORIG
	ctaCountersReply uint16 = 10 // CTA_COUNTERS_REPLY
	ctaUse           uint16 = 11 // CTA_USE
	ctaID            uint16 = 12 // CTA_ID
	ctaNatDst        uint16 = 13 // CTA_NAT_DST
	ctaTupleMaster   uint16 = 14 // CTA_TUPLE_MASTER
	ctaSeqAdjOrig    uint16 = 15 // CTA_SEQ_ADJ_ORIG
	ctaSeqAdjReply   uint16 = 16 // CTA_SEQ_ADJ_REPLY
	ctaSecmark       uint16 = 17 // CTA_SECMARK
	ctaZone          uint16 = 18 // CTA_ZONE
	ctaSecCtx        uint16 = 19 // CTA_SECCTX
	ctaTimestamp     uint16 = 20 // CTA_TIMESTAMP
	ctaMarkMask      uint16 = 21 // CTA_MARK_MASK
	ctaLabels        uint16 = 22 // CTA_LABELS
	ctaLabelsMask    uint16 = 23 // CTA_LABELS_MASK
	ctaSynproxy      uint16 = 24 // CTA_SYNPROXY
	ctaFilter        uint16 = 25 // CTA_FILTER
	ctaStatusMask    uint16 = 26 // CTA_STATUS_MASK
)

// enum ctattr_tuple, ctattr_ip, ctattr_l4proto
const (
	ctaTupleIP    uint16 = 1 // CTA_TUPLE_IP
	ctaTupleProto uint16 = 2 // CTA_TUPLE_PROTO
	ctaTupleZone  uint16 = 3 // CTA_TUPLE_ZONE

	ctaIPv4Src uint16 = 1 // CTA_IP_V4_SRC
	ctaIPv4Dst uint16 = 2 // CTA_IP_V4_DST
	ctaIPv6Src uint16 = 3 // CTA_IP_V6_SRC
	ctaIPv6Dst uint16 = 4 // CTA_IP_V6_DST

	ctaProtoNum        uint16 = 1 // CTA_PROTO_NUM
	ctaProtoSrcPort    uint16 = 2 // CTA_PROTO_SRC_PORT
	ctaProtoDstPort    uint16 = 3 // CTA_PROTO_DST_PORT
	ctaProtoICMPID     uint16 = 4 // CTA_PROTO_ICMP_ID
	ctaProtoICMPType   uint16 = 5 // CTA_PROTO_ICMP_TYPE
	ctaProtoICMPCode   uint16 = 6 // CTA_PROTO_ICMP_CODE
	ctaProtoICMPv6ID   uint16 = 7 // CTA_PROTO_ICMPV6_ID
	ctaProtoICMPv6Type uint16 = 8 // CTA_PROTO_ICMPV6_TYPE
	ctaProtoICMPv6Code uint16 = 9 // CTA_PROTO_ICMPV6_CODE
)

// enum ctattr_protoinfo and its per-protocol nests
const (
	ctaProtoinfoTCP  uint16 = 1 // CTA_PROTOINFO_TCP
	ctaProtoinfoDCCP uint16 = 2 // CTA_PROTOINFO_DCCP
	ctaProtoinfoSCTP uint16 = 3 // CTA_PROTOINFO_SCTP

	ctaTCPState       uint16 = 1 // CTA_PROTOINFO_TCP_STATE
	ctaTCPWscaleOrig  uint16 = 2 // CTA_PROTOINFO_TCP_WSCALE_ORIGINAL
	ctaTCPWscaleReply uint16 = 3 // CTA_PROTOINFO_TCP_WSCALE_REPLY
	ctaTCPFlagsOrig   uint16 = 4 // CTA_PROTOINFO_TCP_FLAGS_ORIGINAL
	ctaTCPFlagsReply  uint16 = 5 // CTA_PROTOINFO_TCP_FLAGS_REPLY

	ctaDCCPState        uint16 = 1 // CTA_PROTOINFO_DCCP_STATE
	ctaDCCPRole         uint16 = 2 // CTA_PROTOINFO_DCCP_ROLE
	ctaDCCPHandshakeSeq uint16 = 3 // CTA_PROTOINFO_DCCP_HANDSHAKE_SEQ

	ctaSCTPState     uint16 = 1 // CTA_PROTOINFO_SCTP_STATE
	ctaSCTPVtagOrig  uint16 = 2 // CTA_PROTOINFO_SCTP_VTAG_ORIGINAL
	ctaSCTPVtagReply uint16 = 3 // CTA_PROTOINFO_SCTP_VTAG_REPLY
)

// counters, timestamps, NAT, seqadj, synproxy, help, secctx
const (
	ctaCountersPackets uint16 = 1 // CTA_COUNTERS_PACKETS
	ctaCountersBytes   uint16 = 2 // CTA_COUNTERS_BYTES

	ctaTimestampStart uint16 = 1 // CTA_TIMESTAMP_START
	ctaTimestampStop  uint16 = 2 // CTA_TIMESTAMP_STOP

	ctaNatV4MinIP uint16 = 1 // CTA_NAT_V4_MINIP
	ctaNatV4MaxIP uint16 = 2 // CTA_NAT_V4_MAXIP
	ctaNatProto   uint16 = 3 // CTA_NAT_PROTO
	ctaNatV6MinIP uint16 = 4 // CTA_NAT_V6_MINIP
	ctaNatV6MaxIP uint16 = 5 // CTA_NAT_V6_MAXIP

	ctaProtoNatPortMin uint16 = 1 // CTA_PROTONAT_PORT_MIN
	ctaProtoNatPortMax uint16 = 2 // CTA_PROTONAT_PORT_MAX

	ctaSeqAdjCorrectionPos uint16 = 1 // CTA_SEQADJ_CORRECTION_POS
	ctaSeqAdjOffsetBefore  uint16 = 2 // CTA_SEQADJ_OFFSET_BEFORE
	ctaSeqAdjOffsetAfter   uint16 = 3 // CTA_SEQADJ_OFFSET_AFTER

	ctaSynproxyISN   uint16 = 1 // CTA_SYNPROXY_ISN
	ctaSynproxyITS   uint16 = 2 // CTA_SYNPROXY_ITS
	ctaSynproxyTSOff uint16 = 3 // CTA_SYNPROXY_TSOFF

	ctaHelpName uint16 = 1 // CTA_HELP_NAME
	ctaHelpInfo uint16 = 2 // CTA_HELP_INFO

	ctaSecCtxName uint16 = 1 // CTA_SECCTX_NAME
)

// enum ctattr_expect and ctattr_expect_nat
const (
	ctaExpectMaster   uint16 = 1  // CTA_EXPECT_MASTER
	ctaExpectTuple    uint16 = 2  // CTA_EXPECT_TUPLE
	ctaExpectMask     uint16 = 3  // CTA_EXPECT_MASK
	ctaExpectTimeout  uint16 = 4  // CTA_EXPECT_TIMEOUT
	ctaExpectID       uint16 = 5  // CTA_EXPECT_ID
	ctaExpectHelpName uint16 = 6  // CTA_EXPECT_HELP_NAME
	ctaExpectZone     uint16 = 7  // CTA_EXPECT_ZONE
	ctaExpectFlags    uint16 = 8  // CTA_EXPECT_FLAGS
	ctaExpectClass    uint16 = 9  // CTA_EXPECT_CLASS
	ctaExpectNAT      uint16 = 10 // CTA_EXPECT_NAT
	ctaExpectFn       uint16 = 11 // CTA_EXPECT_FN

	ctaExpectNATDir   uint16 = 1 // CTA_EXPECT_NAT_DIR
	ctaExpectNATTuple uint16 = 2 // CTA_EXPECT_NAT_TUPLE
)

// enum ctattr_stats_cpu, ctattr_stats_global, ctattr_expect_stats
const (
	ctaStatsSearched      uint16 = 1  // CTA_STATS_SEARCHED
	ctaStatsFound         uint16 = 2  // CTA_STATS_FOUND
	ctaStatsNew           uint16 = 3  // CTA_STATS_NEW
	ctaStatsInvalid       uint16 = 4  // CTA_STATS_INVALID
	ctaStatsIgnore        uint16 = 5  // CTA_STATS_IGNORE
	ctaStatsDelete        uint16 = 6  // CTA_STATS_DELETE
	ctaStatsDeleteList    uint16 = 7  // CTA_STATS_DELETE_LIST
	ctaStatsInsert        uint16 = 8  // CTA_STATS_INSERT
	ctaStatsInsertFailed  uint16 = 9  // CTA_STATS_INSERT_FAILED
	ctaStatsDrop          uint16 = 10 // CTA_STATS_DROP
	ctaStatsEarlyDrop     uint16 = 11 // CTA_STATS_EARLY_DROP
	ctaStatsError         uint16 = 12 // CTA_STATS_ERROR
	ctaStatsSearchRestart uint16 = 13 // CTA_STATS_SEARCH_RESTART
	ctaStatsClashResolve  uint16 = 14 // CTA_STATS_CLASH_RESOLVE
	ctaStatsChainTooLong  uint16 = 15 // CTA_STATS_CHAIN_TOOLONG

	ctaStatsGlobalEntries    uint16 = 1 // CTA_STATS_GLOBAL_ENTRIES
	ctaStatsGlobalMaxEntries uint16 = 2 // CTA_STATS_GLOBAL_MAX_ENTRIES

	ctaStatsExpNew    uint16 = 1 // CTA_STATS_EXP_NEW
	ctaStatsExpCreate uint16 = 2 // CTA_STATS_EXP_CREATE
	ctaStatsExpDelete uint16 = 3 // CTA_STATS_EXP_DELETE
)

// enum ctattr_filter and the CTA_FILTER_F_* flags (net/netfilter/nf_internals.h,
// not in uapi). The flag words are host-endian u32 (nla_get_u32), unlike
// every other ctnetlink integer.
const (
	ctaFilterOrigFlags  uint16 = 1 // CTA_FILTER_ORIG_FLAGS
	ctaFilterReplyFlags uint16 = 2 // CTA_FILTER_REPLY_FLAGS

	filterIPSrc      uint32 = 1 << 0  // CTA_FILTER_F_CTA_IP_SRC
	filterIPDst      uint32 = 1 << 1  // CTA_FILTER_F_CTA_IP_DST
	filterTupleZone  uint32 = 1 << 2  // CTA_FILTER_F_CTA_TUPLE_ZONE
	filterProtoNum   uint32 = 1 << 3  // CTA_FILTER_F_CTA_PROTO_NUM
	filterSrcPort    uint32 = 1 << 4  // CTA_FILTER_F_CTA_PROTO_SRC_PORT
	filterDstPort    uint32 = 1 << 5  // CTA_FILTER_F_CTA_PROTO_DST_PORT
	filterICMPType   uint32 = 1 << 6  // CTA_FILTER_F_CTA_PROTO_ICMP_TYPE
	filterICMPCode   uint32 = 1 << 7  // CTA_FILTER_F_CTA_PROTO_ICMP_CODE
	filterICMPID     uint32 = 1 << 8  // CTA_FILTER_F_CTA_PROTO_ICMP_ID
	filterICMPv6Type uint32 = 1 << 9  // CTA_FILTER_F_CTA_PROTO_ICMPV6_TYPE
	filterICMPv6Code uint32 = 1 << 10 // CTA_FILTER_F_CTA_PROTO_ICMPV6_CODE
	filterICMPv6ID   uint32 = 1 << 11 // CTA_FILTER_F_CTA_PROTO_ICMPV6_ID
)

// Multicast groups (enum nfnetlink_groups); the socket bitmask bit is
// 1<<(group-1).
const (
	groupNew        = 1 // NFNLGRP_CONNTRACK_NEW
	groupUpdate     = 2 // NFNLGRP_CONNTRACK_UPDATE
	groupDestroy    = 3 // NFNLGRP_CONNTRACK_DESTROY
	groupExpNew     = 4 // NFNLGRP_CONNTRACK_EXP_NEW
	groupExpUpdate  = 5 // NFNLGRP_CONNTRACK_EXP_UPDATE
	groupExpDestroy = 6 // NFNLGRP_CONNTRACK_EXP_DESTROY
)
