package wsd

// drainSpoolLoop drains the hook spool at start and every SpoolInterval.
// (Wired to internal/spool once it lands.)
func (s *Server) drainSpoolLoop() {
	defer close(s.spoolDone)
	<-s.spoolStop
}
