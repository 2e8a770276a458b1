package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
)

// tokenPath is the simulator's OAuth 2.0 token endpoint. A test's fake
// service-account key names it as token_uri, so Application Default
// Credentials run their real token exchange against the simulator.
const tokenPath = "/token"

var tokenSeq atomic.Int64

// serveToken grants an access token for any assertion or refresh token:
// the simulator checks that a token is sent, not who sent it.
func (s *Server) serveToken(x *exchange) {
	if x.r.Method != http.MethodPost {
		x.fail(errNotFound(x.r.URL.Path))
		return
	}
	if err := x.r.ParseForm(); err != nil || x.r.PostForm.Get("grant_type") == "" {
		b, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": "grant_type is required"})
		x.writeJSON(http.StatusBadRequest, b)
		return
	}
	b, _ := json.Marshal(map[string]any{
		"access_token": fmt.Sprintf("sim-access-token-%d", tokenSeq.Add(1)),
		"token_type":   "Bearer",
		"expires_in":   3600,
	})
	x.e.Kind = "token"
	x.writeJSON(http.StatusOK, b)
}

// vertexResource maps a Vertex resource path onto the Gemini API one the
// handlers serve ("projects/P/locations/L/publishers/google/models/M:m" to
// "models/M:m", "projects/P/locations/L/cachedContents" to
// "cachedContents"), after checking that the call carries a bearer token.
func (s *Server) vertexResource(x *exchange, rest string) (string, bool) {
	if !strings.HasPrefix(x.r.Header.Get("Authorization"), "Bearer ") {
		x.fail(newAPIErr(http.StatusUnauthorized, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "auth"))
		return "", false
	}
	parts := strings.SplitN(rest, "/", 5) // projects P locations L rest
	if len(parts) < 5 || parts[0] != "projects" || parts[2] != "locations" || parts[1] == "" || parts[3] == "" {
		x.fail(errNotFound(x.r.URL.Path))
		return "", false
	}
	return strings.TrimPrefix(parts[4], "publishers/google/"), true
}
