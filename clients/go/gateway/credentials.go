package gateway

import "context"

// APIKey sends a caller's API key (fpk_...) as `authorization: Bearer <key>` with every call:
// grpc.WithPerRPCCredentials(gateway.APIKey{Key: key}). Insecure allows plaintext channels,
// for a gateway on this machine only (the key would travel in clear).
type APIKey struct {
	Key      string
	Insecure bool
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (k APIKey) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + k.Key}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials.
func (k APIKey) RequireTransportSecurity() bool { return !k.Insecure }
