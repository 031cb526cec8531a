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
