package main

import "github.com/mpm-dev/mpm/internal/wsd"

// openStore chooses the event store: nil keeps the in-memory default.
var openStore wsd.StoreOpener
