module github.com/fapiao-gateway/fapiao-gateway/clients/go

go 1.19

// The versions the client is built and tested with here (Debian's packages, in GOPATH mode:
// no module proxy is reachable, so there is no go.sum yet). Where the proxy is reachable,
// `go mod tidy` completes this file (and adds google.golang.org/genproto for errdetails).
require (
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
