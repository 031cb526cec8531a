package nft

import "fmt"

// nftnl user data is a list of TLVs, one byte type, one byte length, then
// the value; nft stores comments there (NUL-terminated) and reads them back
// from there, so nfkit writes them exactly the same way.

// udataGet returns the value of TLV typ in b.
func udataGet(b []byte, typ uint8) ([]byte, bool) {
	for len(b) >= 2 {
		t, l := b[0], int(b[1])
		if 2+l > len(b) {
			return nil, false
		}
		if t == typ {
			return b[2 : 2+l], true
		}
		b = b[2+l:]
	}
	return nil, false
}

// udataComment extracts the comment TLV (without its NUL).
func udataComment(b []byte, typ uint8) string {
	v, ok := udataGet(b, typ)
	if !ok {
		return ""
	}
	return getStr(v)
}

// udataWithComment returns raw with its comment TLV set to comment (or
// removed when comment is empty), keeping every other TLV and their order.
// When raw already carries exactly this comment it is returned unchanged,
// so a listed object re-encodes byte for byte.
func udataWithComment(raw []byte, typ uint8, comment string) ([]byte, error) {
	if len(comment) > 254 {
		return nil, fmt.Errorf("%w: comment of %d bytes (max 254)", ErrInvalid, len(comment))
	}
	if cur, ok := udataGet(raw, typ); ok && comment != "" && string(cur) == comment+"\x00" {
		return raw, nil
	}
	if !udataHas(raw, typ) && comment == "" {
		return raw, nil
	}
	// Replace the comment where it is, or append it: nft writes it last.
	var out []byte
	tlv := func() {
		out = append(out, typ, byte(len(comment)+1))
		out = append(out, comment...)
		out = append(out, 0)
	}
	done := comment == ""
	b := raw
	for len(b) >= 2 {
		t, l := b[0], int(b[1])
		if 2+l > len(b) {
			break
		}
		if t != typ {
			out = append(out, b[:2+l]...)
		} else if !done {
			tlv()
			done = true
		}
		b = b[2+l:]
	}
	if !done {
		tlv()
	}
	out = append(out, b...) // a malformed tail is kept as it was
	if len(out) > maxUserDataLen {
		return nil, fmt.Errorf("%w: user data of %d bytes (max %d)", ErrInvalid, len(out), maxUserDataLen)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func udataHas(raw []byte, typ uint8) bool {
	_, found := udataGet(raw, typ)
	return found
}
