package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// WriteServiceAccount writes a Google service-account key file to path
// whose token_uri is this server's token endpoint. Pointing
// GOOGLE_APPLICATION_CREDENTIALS at it makes Application Default
// Credentials run their real token exchange against the simulator, so a
// Vertex AI client can be tested offline, unchanged. The key is fresh and
// worthless anywhere else.
func (s *Server) WriteServiceAccount(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generating a key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding the key: %w", err)
	}
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "llmpipe-sim",
		"private_key_id": "sim",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "runner@llmpipe-sim.iam.gserviceaccount.com",
		"client_id":      "1",
		"token_uri":      strings.TrimSuffix(s.URL(), "/") + tokenPath,
	})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
