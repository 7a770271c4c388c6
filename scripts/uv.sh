# Sourced by scripts/run and scripts/test: puts a uv from PyPI on PATH (no other downloads).
# uv is kept in .tools/ (git-ignored) so nothing is installed system-wide.
UV_VERSION="0.13.8"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! "$root/.tools/bin/uv" --version 2>/dev/null | grep -q "$UV_VERSION"; then
    echo "installing uv $UV_VERSION into .tools/ ..." >&2
    python3 -m venv "$root/.tools" >&2
    "$root/.tools/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2
fi
export PATH="$root/.tools/bin:$PATH"
# Use the machine's Python; never download an interpreter.
export UV_PYTHON_DOWNLOADS=never
