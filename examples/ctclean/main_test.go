package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nfkit/nfkit/internal/nstest"
)

func TestCTClean(t *testing.T) {
	nstest.RequireRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res Result
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, options{Flows: 50, result: &res}), out.String())
	t.Log("\n" + out.String())
	require.Equal(t, 50, res.Deleted)
	require.Zero(t, res.LeftRemoved, "no entry may still point at the removed backend")
	require.Equal(t, 50, res.LeftKept, "the other backend's entries must stay")
	require.Equal(t, 50, res.DestroyEvents, "every deletion must produce a destroy event")
}
