package device

// NextBootID exposes the BOOTID file logic to the black-box tests.
func NextBootID(s *Server) (int32, error) { return s.nextBootID() }

// SaveBootID is what the SSDP server's BootIDChanged hook calls.
func SaveBootID(s *Server, id int32) error { return s.saveBootID(id) }

// CloseEvents ends eventing as the end of ListenAndServe does.
func CloseEvents(s *Server) { s.events().close() }
