package projections_test

import (
	"context"
	"testing"

	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/sinktest"
)

func TestMemorySink(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) projections.Sink { return projections.NewMemory() })
}

func TestPostgresSink(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) projections.Sink {
		sink, err := projections.OpenPostgres(context.Background(), sinktest.NewSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sink.Close)
		return sink
	})
}
