package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// LogLevel is a syslog level (enum nft_log_level), plus LogLevelAudit.
type LogLevel uint32

const (
	LogLevelEmerg   LogLevel = 0
	LogLevelAlert   LogLevel = 1
	LogLevelCrit    LogLevel = 2
	LogLevelErr     LogLevel = 3
	LogLevelWarning LogLevel = 4 // the kernel's default
	LogLevelNotice  LogLevel = 5
	LogLevelInfo    LogLevel = 6
	LogLevelDebug   LogLevel = 7
	LogLevelAudit   LogLevel = 8 // NFT_LOGLEVEL_AUDIT: to the audit subsystem
)

func (l LogLevel) String() string {
	names := [...]string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit"}
	if int(l) < len(names) {
		return names[l]
	}
	return fmt.Sprintf("LogLevel(%d)", uint32(l))
}

// Log flags (NF_LOG_* in nf_log.h), for the syslog kind.
const (
	LogFlagTCPSeq    uint32 = 0x01 // NF_LOG_TCPSEQ
	LogFlagTCPOpt    uint32 = 0x02 // NF_LOG_TCPOPT
	LogFlagIPOpt     uint32 = 0x04 // NF_LOG_IPOPT
	LogFlagUID       uint32 = 0x08 // NF_LOG_UID
	LogFlagMACDecode uint32 = 0x20 // NF_LOG_MACDECODE
	LogFlagAll       uint32 = 0x2f
)

// Log logs the packet (nft's `log prefix "x: " level info flags all`, or
// `log group 2 snaplen 64` for nflog). With Group set (NFLOG) the kernel
// uses Group/Snaplen/QThreshold and ignores Level/Flags; otherwise it logs
// to syslog with Level and Flags.
type Log struct {
	Prefix string
	// NFLog sends to nfnetlink_log group Group instead of syslog.
	NFLog      bool
	Group      uint16
	Snaplen    uint32
	QThreshold uint16
	Level      LogLevel
	Flags      uint32
}

func (l *Log) Name() string { return "log" }

func (l *Log) validate() error {
	if len(l.Prefix) > 127 {
		return invalidf("log prefix of %d bytes (max 127)", len(l.Prefix))
	}
	if l.NFLog {
		if l.Level != 0 || l.Flags != 0 {
			return invalidf("log to group %d with level %s / flags %#x (nflog has neither)", l.Group, l.Level, l.Flags)
		}
		return nil
	}
	if l.Group != 0 || l.Snaplen != 0 || l.QThreshold != 0 {
		return invalidf("syslog log with group %d snaplen %d threshold %d (set NFLog)", l.Group, l.Snaplen, l.QThreshold)
	}
	if l.Level > LogLevelAudit {
		return invalidf("log level %d", uint32(l.Level))
	}
	if l.Flags&^LogFlagAll != 0 {
		return invalidf("log flags %#x", l.Flags)
	}
	return nil
}

func (l *Log) marshal(ae *enc) error {
	if l.Prefix != "" {
		ae.String(unix.NFTA_LOG_PREFIX, l.Prefix)
	}
	if l.NFLog {
		ae.U16(unix.NFTA_LOG_GROUP, l.Group)
		if l.Snaplen != 0 {
			ae.U32(unix.NFTA_LOG_SNAPLEN, l.Snaplen)
		}
		if l.QThreshold != 0 {
			ae.U16(unix.NFTA_LOG_QTHRESHOLD, l.QThreshold)
		}
		return nil
	}
	ae.U32(unix.NFTA_LOG_LEVEL, uint32(l.Level))
	if l.Flags != 0 {
		ae.U32(unix.NFTA_LOG_FLAGS, l.Flags)
	}
	return nil
}

func (l *Log) unmarshal(ad *dec) error {
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_LOG_PREFIX:
			l.Prefix = ad.String()
		case unix.NFTA_LOG_GROUP:
			l.NFLog, l.Group = true, ad.U16()
		case unix.NFTA_LOG_SNAPLEN:
			l.Snaplen = ad.U32()
		case unix.NFTA_LOG_QTHRESHOLD:
			l.QThreshold = ad.U16()
		case unix.NFTA_LOG_LEVEL:
			l.Level = LogLevel(ad.U32())
		case unix.NFTA_LOG_FLAGS:
			l.Flags = ad.U32()
		default:
			return errUnknownAttr
		}
	}
	return nil
}
