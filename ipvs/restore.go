package ipvs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// StopOnError stops sending once a line has failed. By default every
	// line is applied even after one fails, as `ipvsadm -R` does (it
	// prints the kernel's error and reads on). Lines are pipelined, so
	// lines already in flight with the failing one (up to 1024) still get
	// their own outcome; only the rest are reported as ErrNotSent.
	StopOnError bool
}

// RestoreLine is the outcome of one command line of Restore's input.
type RestoreLine struct {
	Line int    // 1-based line number in the input
	Text string // the line, trimmed
	// Err is nil when the line was applied, the kernel's error when it
	// was refused, and ErrNotSent when it was never sent.
	Err error
}

// restoreCmd is one parsed line.
type restoreCmd struct {
	line int
	text string
	kind string // -A -E -D -a -e -d -C -Z
	svc  Service
	dest Destination
}

// Restore applies `ipvsadm -S` / `ipvsadm -R` text like `ipvsadm -R`:
// line by line, in order, without clearing anything first, going on past
// a line the kernel refuses unless opts.StopOnError. Besides -A and
// -a lines it takes -E and -e (edit a service or a server: as with
// ipvsadm 1.31, its settings become the line's, with ipvsadm's defaults
// for options the line leaves out, so `-E -t VIP:80 -s rr` also drops
// persistence), -D, -d, -C (clear everything) and -Z (zero counters, of
// one service or all). Long option forms work too;
// unlike ipvsadm, blank lines and # comments are allowed.
//
// The whole input is parsed and validated first: bad input returns an
// error wrapping ErrInvalid naming the line, and nothing is applied
// (ipvsadm instead applies the lines before a bad one). Then the lines
// go to the kernel in order as one pipelined Batch (ipvsadm opens a
// socket and resolves the IPVS family for every line).
// Like ipvsadm -R it is NOT atomic: lines applied before a failure stay
// applied. It returns one RestoreLine per command line and the first
// failure.
func (c *Conn) Restore(ctx context.Context, r io.Reader, opts *RestoreOptions) ([]RestoreLine, error) {
	if opts == nil {
		opts = &RestoreOptions{}
	}
	cmds, err := parseRestore(r)
	if err != nil {
		return nil, err
	}
	out := make([]RestoreLine, len(cmds))
	b := c.NewBatch()
	b.ContinueOnError = !opts.StopOnError
	var owner []int // the line (index in cmds) of each batch operation
	for i := range cmds {
		cmd := &cmds[i]
		out[i] = RestoreLine{Line: cmd.line, Text: cmd.text, Err: ErrNotSent}
		n := b.Len()
		switch cmd.kind {
		case "-A":
			s := cmd.svc // its servers come on their own -a lines
			b.AddService(&s)
		case "-E":
			s := cmd.svc
			b.UpdateService(&s)
		case "-D":
			b.DeleteService(cmd.svc.ServiceKey)
		case "-a":
			b.AddDestination(cmd.svc.ServiceKey, &cmd.dest)
		case "-e":
			b.UpdateDestination(cmd.svc.ServiceKey, &cmd.dest)
		case "-d":
			b.DeleteDestination(cmd.svc.ServiceKey, cmd.dest.DestinationKey)
		case "-C":
			b.Flush()
		case "-Z":
			if cmd.svc.Addr.IsValid() || cmd.svc.FWMark != 0 {
				k := cmd.svc.ServiceKey
				b.Zero(&k)
			} else {
				b.Zero(nil)
			}
		}
		for range b.Len() - n {
			owner = append(owner, i)
		}
	}
	res, err := b.Commit(ctx)
	for j, r := range res {
		out[owner[j]].Err = r.Err
	}
	return out, err
}

// parseRestore reads every command line, rejecting the input on the first
// bad one.
func parseRestore(r io.Reader) ([]restoreCmd, error) {
	var cmds []restoreCmd
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		p := &ruleParser{toks: strings.Fields(text)}
		kind, svc, dest, err := p.parse()
		if err != nil {
			return nil, fmt.Errorf("%w: line %d %q: %v", ErrInvalid, line, text, err)
		}
		svc.ServiceKey = svc.ServiceKey.normalize()
		cmd := restoreCmd{line: line, text: text, kind: kind, svc: svc, dest: dest}
		switch kind {
		case "-A", "-E":
			err = svc.validate()
		case "-a", "-e":
			err = dest.validate()
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		cmds = append(cmds, cmd)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ipvs: restore: read: %w", err)
	}
	return cmds, nil
}
