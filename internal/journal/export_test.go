package journal

// Exported for the external tests and benchmarks (package journal_test).
var (
	Noise      = noise
	HookCorpus = hookCorpus
)
