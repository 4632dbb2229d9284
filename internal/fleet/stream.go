package fleet

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"
)

// streamConfig is the stream we create when it is missing.
func streamConfig(cfg Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "mpm: Claude Code hook events from every edge (mpm-wsd --nats)",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    nonZero(cfg.MaxBytes),
		Duplicates:  cfg.Duplicates,
	}
}

func nonZero(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// ensureStream finds the stream, or creates it with our settings. An
// existing stream is used as it is; settings that differ from ours are
// logged as a warning. Without permission to create it (a publish-only
// edge) a missing stream is an error the caller retries.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg Config, log hclog.Logger) error {
	want := streamConfig(cfg)
	st, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, want)
		// A server whose store is smaller than --nats-max-bytes: halve it until it fits (see fitStream).
		want, err = fitStream(ctx, js, want, err, log)
		if err == nil {
			log.Info("created the JetStream stream", "stream", cfg.Stream, "subjects", want.Subjects, "max_age", cfg.MaxAge, "max_bytes", want.MaxBytes, "duplicates", cfg.Duplicates)
			return nil
		}
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil // another edge created it first
		}
		return fmt.Errorf("create JetStream stream %s: %w (create it with `nats stream add` or use credentials that may)", cfg.Stream, err)
	}
	if err != nil {
		return fmt.Errorf("look up JetStream stream %s: %w", cfg.Stream, err)
	}
	have := st.CachedInfo().Config
	var diffs []any
	if !covers(have.Subjects) {
		diffs = append(diffs, "subjects", have.Subjects)
	}
	if have.MaxAge != want.MaxAge {
		diffs = append(diffs, "max_age", have.MaxAge)
	}
	if have.MaxBytes != want.MaxBytes {
		diffs = append(diffs, "max_bytes", have.MaxBytes)
	}
	if have.Duplicates < want.Duplicates {
		diffs = append(diffs, "duplicates", have.Duplicates)
	}
	if have.Storage != want.Storage {
		diffs = append(diffs, "storage", have.Storage.String())
	}
	if len(diffs) > 0 {
		log.Warn("the JetStream stream exists with other settings; using it as it is", append([]any{"stream", cfg.Stream}, diffs...)...)
	}
	return nil
}

// covers reports whether subjects include all of mpm.events.>.
func covers(subjects []string) bool {
	for _, s := range subjects {
		if s == SubjectPrefix+".>" || s == ">" || s == "mpm.>" {
			return true
		}
	}
	return false
}

// fitStream retries a stream creation that the server refused for want of
// storage (its JetStream store, or the account's, is smaller than
// max_bytes) with half the size, down to 64 MiB, and says so: a stream
// that fits, with discard old, beats an edge that cannot publish.
func fitStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig, err error, log hclog.Logger) (jetstream.StreamConfig, error) {
	asked := want.MaxBytes
	for {
		var apiErr *jetstream.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.ErrorCode != jsErrCodeStorageResourcesExceeded || want.MaxBytes <= 128<<20 {
			return want, err
		}
		want.MaxBytes /= 2
		if _, err = js.CreateStream(ctx, want); err == nil {
			log.Warn("the NATS server has less JetStream storage than --nats-max-bytes; created the stream smaller (raise max_file_store in nats-server.conf, or set --nats-max-bytes to what fits)",
				"asked", asked, "max_bytes", want.MaxBytes)
		}
	}
}

// jsErrCodeStorageResourcesExceeded is JetStream's "insufficient storage
// resources available" (nats-server's JSStorageResourcesExceededErr).
const jsErrCodeStorageResourcesExceeded jetstream.ErrorCode = 10047
