package expr

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Register is an nf_tables register (enum nft_registers). RegVerdict holds
// the verdict; Reg1..Reg4 are the 16-byte registers; Reg32_00..Reg32_15 the
// 4-byte ones that alias them (Reg32_00..03 is Reg1). The kernel dumps a
// 32-bit register that starts a 16-byte one under its 16-byte name.
type Register uint32

const (
	RegVerdict Register = unix.NFT_REG_VERDICT
	Reg1       Register = unix.NFT_REG_1
	Reg2       Register = unix.NFT_REG_2
	Reg3       Register = unix.NFT_REG_3
	Reg4       Register = unix.NFT_REG_4
	Reg32_00   Register = unix.NFT_REG32_00
	Reg32_15   Register = unix.NFT_REG32_00 + 15
)

// Reg32 returns the 32-bit register n (0..15).
func Reg32(n int) Register { return Reg32_00 + Register(n) }

func (r Register) String() string {
	switch {
	case r == RegVerdict:
		return "verdict"
	case r >= Reg1 && r <= Reg4:
		return fmt.Sprintf("reg%d", uint32(r))
	case r >= Reg32_00 && r <= Reg32_15:
		return fmt.Sprintf("reg32_%02d", uint32(r-Reg32_00))
	}
	return fmt.Sprintf("Register(%d)", uint32(r))
}

func (r Register) valid() bool {
	return r <= Reg4 || (r >= Reg32_00 && r <= Reg32_15)
}

// offset32 is the register's position in 4-byte units, as the kernel
// stores it, with the verdict register taking the first 16 bytes.
func (r Register) offset32() uint32 {
	if r <= Reg4 {
		return uint32(r) * 4
	}
	return uint32(r-Reg32_00) + 4
}

// checkData checks that len bytes starting at data register r fit in the
// register file (the kernel's nft_validate_register_load/store).
func checkReg(field string, r Register, length int, allowVerdict bool) error {
	if !r.valid() {
		return invalidf("%s register %d is not an nf_tables register", field, uint32(r))
	}
	if r == RegVerdict {
		if !allowVerdict {
			return invalidf("%s register is the verdict register", field)
		}
		return nil
	}
	if length < 0 || int(r.offset32())*4+length > 4*(4+16) {
		return invalidf("%s register %s cannot hold %d bytes", field, r, length)
	}
	return nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func putReg(ae *enc, typ uint16, r Register) { ae.U32(typ, uint32(r)) }

func getReg(ad *dec) Register { return Register(ad.U32()) }

// maxData is NFT_DATA_VALUE_MAXLEN: a value fills at most one 16-byte
// register... the kernel allows up to 64 bytes for concatenations.
const maxData = 64

func checkValue(field string, v []byte) error {
	if len(v) == 0 || len(v) > maxData {
		return invalidf("%s is %d bytes (want 1..%d)", field, len(v), maxData)
	}
	return nil
}
