#!/usr/bin/env bash
# Write a TikZ picture of a partition with exactmaso and compile it with pdflatex.
#
#   scripts/compile_tikz.sh [OUT_DIR] [COLOR_BY]
#
# OUT_DIR (default build/tikz) receives partition.tex and partition.pdf: the exact linear
# regions of the bundled default network on [-1, 1]^2 (exactmaso.default_network), one filled
# path per class piece (COLOR_BY, default "class"; any em.plot.COLOR_BY value works) and the
# exact decision boundary, as a standalone article document.
#
# pdflatex: when it is missing and apt-get can be run (as root), the script installs Debian's
# texlive-latex-base and texlive-pictures (about 90 MB, a minute); set EXACTMASO_NO_INSTALL=1
# to refuse instead.  PYTHON selects the interpreter (default: python3).
set -euo pipefail

out="${1:-build/tikz}"
color_by="${2:-class}"
python="${PYTHON:-python3}"
mkdir -p "$out"

"$python" - "$out/partition.tex" "$color_by" <<'PY'
import sys

import exactmaso as em
from exactmaso.default_network import DEFAULT_DOMAIN, default_network

path, color_by = sys.argv[1], sys.argv[2]
part = em.regions(default_network(), em.Box(*DEFAULT_DOMAIN))
em.export.write_tikz(part, path, color_by=color_by, boundary=True, standalone=True)
print(f"wrote {path}: {len(part)} regions, color_by={color_by!r}")
PY

if ! command -v pdflatex >/dev/null 2>&1; then
    if [ "${EXACTMASO_NO_INSTALL:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
        echo "pdflatex not found: installing texlive-latex-base and texlive-pictures" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            texlive-latex-base texlive-pictures >&2
    else
        echo "pdflatex not found: install it (Debian/Ubuntu: apt-get install --no-install-recommends" \
             "texlive-latex-base texlive-pictures) and rerun; $out/partition.tex is written" >&2
        exit 1
    fi
fi

cd "$out"
if ! pdflatex -interaction=nonstopmode -halt-on-error partition.tex >/dev/null 2>&1; then
    echo "pdflatex failed; the end of $out/partition.log:" >&2
    tail -n 20 partition.log >&2
    exit 1
fi
rm -f partition.aux
echo "wrote $out/partition.pdf"
