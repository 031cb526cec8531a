package expr

import "golang.org/x/sys/unix"

// QueueFlags are NFT_QUEUE_FLAG_*.
type QueueFlags uint16

const (
	QueueBypass    QueueFlags = unix.NFT_QUEUE_FLAG_BYPASS     // `bypass`: accept when no program listens
	QueueCPUFanout QueueFlags = unix.NFT_QUEUE_FLAG_CPU_FANOUT // `fanout`: spread over the range by CPU
	queueFlagsAll  QueueFlags = QueueBypass | QueueCPUFanout
)

func (f QueueFlags) String() string { return flagString(uint32(f), []string{"bypass", "fanout"}) }

// Queue hands the packet to user space on queue Num..Num+Total-1 (nft's
// `queue num 2-3 bypass`), or on the queue in SourceRegister (`queue to
// numgen inc mod 4`). This kernel has no nft_queue: covered by fixtures
// and google/nftables bytes only.
type Queue struct {
	Num            uint16
	Total          uint16
	Flags          QueueFlags
	SourceRegister Register
	// OmitFlags leaves NFTA_QUEUE_FLAGS out (Flags must be 0). nft 1.0.6
	// sends no flags attribute for a queue without flags, while the
	// kernel always dumps one; decoding sets OmitFlags when the attribute
	// was absent, so both forms re-encode exactly.
	OmitFlags bool
}

func (q *Queue) Name() string { return "queue" }

func (q *Queue) validate() error {
	if q.Flags&^queueFlagsAll != 0 {
		return invalidf("queue flags %#x", uint16(q.Flags))
	}
	if q.OmitFlags && q.Flags != 0 {
		return invalidf("queue flags %s with OmitFlags", q.Flags)
	}
	if q.SourceRegister != 0 {
		if q.Num != 0 || q.Total != 0 {
			return invalidf("queue with register %s and number %d", q.SourceRegister, q.Num)
		}
		return checkReg("queue source", q.SourceRegister, 2, false)
	}
	if q.Total == 0 {
		return invalidf("queue total 0")
	}
	return nil
}

func (q *Queue) marshal(ae *enc) error {
	if q.SourceRegister == 0 {
		ae.U16(unix.NFTA_QUEUE_NUM, q.Num)
		ae.U16(unix.NFTA_QUEUE_TOTAL, q.Total)
	}
	if !q.OmitFlags {
		ae.U16(unix.NFTA_QUEUE_FLAGS, uint16(q.Flags))
	}
	if q.SourceRegister != 0 {
		putReg(ae, unix.NFTA_QUEUE_SREG_QNUM, q.SourceRegister)
	}
	return nil
}

func (q *Queue) unmarshal(ad *dec) error {
	q.OmitFlags = true
	for ad.Next() {
		switch ad.Kind() {
		case unix.NFTA_QUEUE_NUM:
			q.Num = ad.U16()
		case unix.NFTA_QUEUE_TOTAL:
			q.Total = ad.U16()
		case unix.NFTA_QUEUE_FLAGS:
			q.Flags, q.OmitFlags = QueueFlags(ad.U16()), false
		case unix.NFTA_QUEUE_SREG_QNUM:
			q.SourceRegister = getReg(ad)
		default:
			return errUnknownAttr
		}
	}
	return nil
}
