package main

import (
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"sync"
)

var ErrNotFound = errors.New("not found")

type Record struct {
	ID    string `json:"id"`
	Value int    `json:"value"`
}

type Server struct {
	mu      sync.RWMutex
	records map[string]Record
}

func NewServer() *Server {
	return &Server{records: make(map[string]Record)}
}

func (s *Server) Get(id string) (Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.records[id]
	if !ok {
		return Record{}, ErrNotFound
	}
	return r, nil
}

func (s *Server) handle(w http.ResponseWriter, req *http.Request) {
	id := req.URL.Query().Get("id")
	rec, err := s.Get(id)
	if errors.Is(err, ErrNotFound) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	_ = json.NewEncoder(w).Encode(&rec)
}

func main() {
	s := NewServer()
	http.HandleFunc("/record", s.handle)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
