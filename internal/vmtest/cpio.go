package vmtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// archive is the file tree of an initramfs, written as a cpio "newc"
// archive, the format the kernel unpacks into its rootfs. Entries are kept
// by guest path; parents are created implicitly, and files are streamed from
// the host when the archive is written, so a large test binary is never held
// in memory.
type archive struct {
	entries map[string]entry
}

type entry struct {
	mode   uint32 // S_IF* | permissions
	src    string // host file to copy (regular files)
	data   []byte // literal content (regular files without src, symlink target)
	target string // symlink target
}

const (
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFLNK = 0o120000
)

func newArchive() *archive { return &archive{entries: map[string]entry{}} }

func clean(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

func (a *archive) dir(p string) {
	p = clean(p)
	for p != "" && p != "." {
		if _, ok := a.entries[p]; ok {
			return
		}
		a.entries[p] = entry{mode: sIFDIR | 0o755}
		p = path.Dir(p)
		if p == "." {
			return
		}
	}
}

// file adds the host file src at guest path p with the given permissions.
func (a *archive) file(p, src string, perm uint32) {
	p = clean(p)
	a.dir(path.Dir(p))
	a.entries[p] = entry{mode: sIFREG | perm, src: src}
}

// bytes adds a file with literal content.
func (a *archive) bytes(p string, data []byte, perm uint32) {
	p = clean(p)
	a.dir(path.Dir(p))
	a.entries[p] = entry{mode: sIFREG | perm, data: data}
}

func (a *archive) symlink(p, target string) {
	p = clean(p)
	a.dir(path.Dir(p))
	a.entries[p] = entry{mode: sIFLNK | 0o777, target: target}
}

func (a *archive) has(p string) bool {
	_, ok := a.entries[clean(p)]
	return ok
}

// write emits the archive. Names are sorted so every directory precedes its
// contents, which the kernel's unpacker requires.
func (a *archive) write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	ino := uint32(1)
	for _, n := range names {
		e := a.entries[n]
		var (
			size int64
			r    io.Reader
			f    *os.File
		)
		switch {
		case e.mode&0o170000 == sIFLNK:
			size = int64(len(e.target))
			r = strings.NewReader(e.target)
		case e.mode&0o170000 == sIFREG && e.src != "":
			var err error
			f, err = os.Open(e.src)
			if err != nil {
				return err
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return err
			}
			size = st.Size()
			r = f
		case e.mode&0o170000 == sIFREG:
			size = int64(len(e.data))
			r = strings.NewReader(string(e.data))
		}
		nlink := 1
		if e.mode&0o170000 == sIFDIR {
			nlink = 2
		}
		err := writeHeader(bw, ino, e.mode, nlink, size, n)
		if err == nil && r != nil {
			var m int64
			m, err = io.Copy(bw, r)
			if err == nil && m != size {
				err = fmt.Errorf("%s changed size while archiving", e.src)
			}
			if err == nil {
				err = pad(bw, size)
			}
		}
		if f != nil {
			f.Close()
		}
		if err != nil {
			return err
		}
		ino++
	}
	if err := writeHeader(bw, 0, 0, 1, 0, "TRAILER!!!"); err != nil {
		return err
	}
	return bw.Flush()
}

func writeHeader(w io.Writer, ino, mode uint32, nlink int, size int64, name string) error {
	// newc: magic, then 13 eight-digit hex fields: ino mode uid gid nlink
	// mtime filesize devmajor devminor rdevmajor rdevminor namesize check.
	if _, err := fmt.Fprintf(w, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, len(name)+1, 0); err != nil {
		return err
	}
	if _, err := io.WriteString(w, name+"\x00"); err != nil {
		return err
	}
	return pad(w, int64(110+len(name)+1))
}

func pad(w io.Writer, n int64) error {
	if r := n % 4; r != 0 {
		_, err := w.Write(make([]byte, 4-r))
		return err
	}
	return nil
}
