package iptables

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// This file parses iptables-restore input into commands; restore.go turns
// them into one nf_tables transaction.

// rcmd is one command of a restore file.
type rcmd struct {
	line  int
	kind  byte // ':' chain line, or the command letter: A I D R N X F P E
	chain string
	arg   string   // -E new name, -P / ':' policy
	num   int      // -I / -D / -R rule number (1-based), 0 if not given
	rule  *Rule    // -A -I -D -R with a specification
	exprs []byte   // the rule's expressions
	match []byte   // the expressions with zero counters, for -D by specification
	fix   []setFix // set indexes to fill into exprs and match (same offsets)
	ctrs  Counters
}

// rtable is one "*table ... COMMIT" block.
type rtable struct {
	name string
	line int
	cmds []rcmd
}

var cmdLetters = map[string]byte{
	"-A": 'A', "--append": 'A', "-I": 'I', "--insert": 'I', "-D": 'D', "--delete": 'D',
	"-R": 'R', "--replace": 'R', "-N": 'N', "--new-chain": 'N', "-X": 'X', "--delete-chain": 'X',
	"-F": 'F', "--flush": 'F', "-P": 'P', "--policy": 'P', "-E": 'E', "--rename-chain": 'E',
}

func lineErr(line int, tok string, format string, a ...any) error {
	return &ParseError{Line: line, Token: tok, Err: fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))}
}

// parseCounters parses "[PACKETS:BYTES]".
func parseCounters(s string) (Counters, bool) {
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return Counters{}, false
	}
	p, b, ok := strings.Cut(s[1:len(s)-1], ":")
	if !ok {
		return Counters{}, false
	}
	pk, err1 := strconv.ParseUint(p, 10, 64)
	by, err2 := strconv.ParseUint(b, 10, 64)
	return Counters{Packets: pk, Bytes: by}, err1 == nil && err2 == nil
}

// parseRestore reads a whole restore file. Nothing is sent before it
// returns, so a bad line anywhere leaves the kernel untouched.
func parseRestore(r io.Reader, f Family, counters bool) ([]rtable, error) {
	if !f.valid() {
		return nil, invalid("family %d", f)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var (
		out []rtable
		cur *rtable
		n   int
	)
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		switch {
		case line[0] == '*':
			if cur != nil {
				return nil, lineErr(n, line, "table %s started before COMMIT of %s", line[1:], cur.name)
			}
			name := line[1:]
			if _, ok := builtins[name]; !ok {
				return nil, lineErr(n, name, "unknown table")
			}
			out = append(out, rtable{name: name, line: n})
			cur = &out[len(out)-1]
			continue
		case line == "COMMIT":
			if cur == nil {
				return nil, lineErr(n, line, "COMMIT outside a table")
			}
			cur = nil
			continue
		}
		if cur == nil {
			return nil, lineErr(n, line, "command outside a table (missing *TABLE line)")
		}
		if line[0] == ':' {
			c, err := parseChainLine(n, line, cur.name, counters)
			if err != nil {
				return nil, err
			}
			cur.cmds = append(cur.cmds, c)
			continue
		}
		c, err := parseCommand(n, line, f, cur.name, counters)
		if err != nil {
			return nil, err
		}
		cur.cmds = append(cur.cmds, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("iptables: restore: line %d: %w", n+1, err)
	}
	if cur != nil {
		return nil, lineErr(n+1, "EOF", "table %s has no COMMIT", cur.name)
	}
	return out, nil
}

// parseChainLine parses ":NAME POLICY [PACKETS:BYTES]".
func parseChainLine(n int, line, table string, counters bool) (rcmd, error) {
	fs := strings.Fields(line[1:])
	if len(fs) < 2 || len(fs) > 3 {
		return rcmd{}, lineErr(n, line, "want :CHAIN POLICY [PACKETS:BYTES]")
	}
	c := rcmd{line: n, kind: ':', chain: fs[0], arg: fs[1]}
	if err := checkChainName(c.chain); err != nil {
		return rcmd{}, lineErr(n, c.chain, "%v", err)
	}
	if len(fs) == 3 {
		ct, ok := parseCounters(fs[2])
		if !ok {
			return rcmd{}, lineErr(n, fs[2], "bad counters")
		}
		if counters {
			c.ctrs = ct
		}
	}
	_, builtin := isBuiltin(table, c.chain)
	switch {
	case builtin && c.arg != "ACCEPT" && c.arg != "DROP" && c.arg != "-":
		return rcmd{}, lineErr(n, c.arg, "policy of %s must be ACCEPT or DROP", c.chain)
	case !builtin && c.arg != "-":
		return rcmd{}, lineErr(n, c.arg, "cannot set a policy on user-defined chain %s", c.chain)
	}
	return c, nil
}

// parseCommand parses one command line: an optional "[PACKETS:BYTES]", a
// command with its chain, and for rule commands the specification.
func parseCommand(n int, line string, f Family, table string, counters bool) (rcmd, error) {
	args, err := splitArgs(line)
	if err != nil {
		return rcmd{}, lineErr(n, line, "%v", err)
	}
	c := rcmd{line: n}
	if len(args) > 0 && strings.HasPrefix(args[0], "[") {
		ct, ok := parseCounters(args[0])
		if !ok {
			return rcmd{}, lineErr(n, args[0], "bad counters")
		}
		if counters {
			c.ctrs = ct
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return rcmd{}, lineErr(n, line, "no command")
	}
	letter, ok := cmdLetters[args[0]]
	if !ok {
		return rcmd{}, lineErr(n, args[0], "unknown command (want -A, -I, -D, -R, -N, -X, -F, -P or -E)")
	}
	c.kind = letter
	args = args[1:]
	needChain := letter != 'X' && letter != 'F'
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") && args[0] != "!" {
		c.chain, args = args[0], args[1:]
	}
	if c.chain == "" && needChain {
		return rcmd{}, lineErr(n, line, "command needs a chain")
	}
	if c.chain != "" {
		if err := checkChainName(c.chain); err != nil {
			return rcmd{}, lineErr(n, c.chain, "%v", err)
		}
	}
	switch letter {
	case 'N', 'X', 'F':
		if len(args) > 0 {
			return rcmd{}, lineErr(n, args[0], "unexpected argument")
		}
		if _, builtin := isBuiltin(table, c.chain); builtin && letter != 'F' {
			return rcmd{}, lineErr(n, c.chain, "chain is built in")
		}
		return c, nil
	case 'P', 'E':
		if len(args) != 1 {
			return rcmd{}, lineErr(n, line, "want %s CHAIN %s", map[byte]string{'P': "-P", 'E': "-E"}[letter],
				map[byte]string{'P': "POLICY", 'E': "NEWNAME"}[letter])
		}
		c.arg = args[0]
		if letter == 'P' {
			if _, builtin := isBuiltin(table, c.chain); !builtin {
				return rcmd{}, lineErr(n, c.chain, "policy on a user-defined chain")
			}
			if c.arg != "ACCEPT" && c.arg != "DROP" {
				return rcmd{}, lineErr(n, c.arg, "policy must be ACCEPT or DROP")
			}
		} else if err := checkChainName(c.arg); err != nil {
			return rcmd{}, lineErr(n, c.arg, "%v", err)
		}
		return c, nil
	}
	// -I, -D and -R take a rule number; -R and -D BY NUMBER take nothing else.
	if (letter == 'I' || letter == 'D' || letter == 'R') && len(args) > 0 {
		if v, err := strconv.Atoi(args[0]); err == nil {
			if v < 1 {
				return rcmd{}, lineErr(n, args[0], "rule number must be 1 or more")
			}
			c.num, args = v, args[1:]
		}
	}
	if letter == 'R' && c.num == 0 {
		return rcmd{}, lineErr(n, line, "-R needs a rule number")
	}
	if letter == 'D' && c.num != 0 {
		if len(args) > 0 {
			return rcmd{}, lineErr(n, args[0], "-D by number takes no rule specification")
		}
		return c, nil
	}
	r, err := parseArgs(f, args)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Line = n
			return rcmd{}, pe
		}
		return rcmd{}, &ParseError{Line: n, Token: line, Err: err}
	}
	if r.Table != "" {
		return rcmd{}, lineErr(n, "-t", "the -t option cannot be used in a restore file")
	}
	if r.Chain != "" {
		return rcmd{}, lineErr(n, r.Chain, "more than one command")
	}
	r.Table, r.Chain = table, c.chain
	if r.Counters == (Counters{}) {
		r.Counters = c.ctrs
	}
	if !counters {
		r.Counters = Counters{}
	}
	if c.exprs, c.fix, err = ruleExprsFix(f, r); err != nil {
		return rcmd{}, &ParseError{Line: n, Token: line, Err: err}
	}
	c.match = c.exprs
	if r.Counters != (Counters{}) {
		z := *r
		z.Counters = Counters{}
		c.match, _ = ruleExprs(f, &z)
	}
	c.rule = r
	return c, nil
}
