package testreg

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// WriteDockerConfig writes dir/config.json holding the credentials of every
// registry given that has auth, so code using authn.DefaultKeychain finds
// them once DOCKER_CONFIG=dir is set.
func WriteDockerConfig(dir string, regs ...*Registry) error {
	auths := map[string]map[string]string{}
	for _, r := range regs {
		user, pass := r.Credentials()
		if user == "" {
			continue
		}
		auths[r.Host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	}
	b, err := json.MarshalIndent(map[string]any{"auths": auths}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding docker config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		return fmt.Errorf("writing docker config: %w", err)
	}
	return nil
}
