package device

// NextBootID exposes the BOOTID file logic to the black-box tests.
func NextBootID(s *Server) (int32, error) { return s.nextBootID() }

// CloseEvents ends eventing as the end of ListenAndServe does.
func CloseEvents(s *Server) { s.events().close() }
