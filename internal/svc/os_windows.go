package svc

const isWindows = true
