package nlconn

import (
	"errors"

	"golang.org/x/sys/unix"
)

// NetNS returns a new file descriptor of the network namespace the
// socket lives in (ioctl SIOCGSKNS, Linux 4.9+), for opening a socket of
// another kind in the same namespace (ipset's getsockopt interface needs
// an AF_INET socket). The caller closes it.
func (c *Conn) NetNS() (int, error) {
	s, ok := c.t.(*sockTransport)
	if !ok {
		return -1, errors.New("nlconn: no socket")
	}
	fd := -1
	var ierr error
	err := s.raw.Control(func(sfd uintptr) {
		fd, ierr = unix.IoctlRetInt(int(sfd), unix.SIOCGSKNS)
	})
	if err == nil {
		err = ierr
	}
	if err != nil {
		return -1, err
	}
	return fd, nil
}

// DialSibling opens another socket of protocol in the namespace c's socket
// lives in. Packages dial extra sockets lazily (dump pools, event
// subscriptions, a second connection for a concurrent dump) and must not
// use their Config.NetNS descriptor again for that: the caller may have
// closed it since Dial and its number may name another namespace by now,
// where a dump would silently find nothing. cfg.NetNS is used only on
// kernels without SIOCGSKNS (before 4.9).
func (c *Conn) DialSibling(protocol int, cfg Config) (*Conn, error) {
	if fd, err := c.NetNS(); err == nil {
		defer unix.Close(fd)
		cfg.NetNS = fd
	}
	return Dial(protocol, &cfg)
}
