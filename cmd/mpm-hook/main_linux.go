package main

import "github.com/mpm-dev/mpm/internal/hook/lean"

func main() { lean.Main() }
