package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/internal/nstest"
)

func TestFirewall(t *testing.T) {
	nstest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res Result
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, options{result: &res}), out.String())
	t.Log("\n" + out.String())
	require.True(t, res.AllowedService, "allowed prefix -> service port must pass")
	require.False(t, res.AllowedOther, "a port the firewall does not open must be dropped")
	require.False(t, res.OutsideService, "a client outside the allowed prefixes must be dropped")
	require.True(t, res.Outbound, "replies to the host's own connections must pass (ct state established)")
	// rate 3/minute, burst 2: a handful pass, then the limit drops the rest.
	require.Positive(t, res.LimitedPassed)
	require.Less(t, res.LimitedPassed, res.LimitedTries, "the rate limit must drop some new connections")
	require.Positive(t, res.ServiceAccepted)
	require.Positive(t, res.DroppedCounted, "dropped packets must be counted")
}
