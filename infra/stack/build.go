package stack

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildFunction compiles functions/<name> for Lambda's provided.al2023 runtime on arm64 with the Go toolchain (no
// Docker): a static, stripped binary named bootstrap, built without the RPC shim (lambda.norpc), which the
// provided runtimes do not use. It returns the directory holding the binary, which becomes the function's asset.
//
// Building here, at synth, rather than with CDK's bundling keeps `cdk synth` offline and Docker-free, and the asset
// hash then covers exactly the binary that is deployed.
func BuildFunction(repoRoot, outRoot, name string) (string, error) {
	dir := filepath.Join(outRoot, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=",
		"-o", filepath.Join(dir, "bootstrap"), "./functions/"+name)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build functions/%s: %v\n%s", name, err, stderr.String())
	}
	return dir, nil
}

// FunctionDirs lists the folders under functions/: each is one Lambda function.
func FunctionDirs(repoRoot string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(repoRoot, "functions"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
