#!/usr/bin/env bash
# Installs Graphviz's `dot` program, which tinygrad_nn.viz uses to render graph pictures.
set -euo pipefail
if command -v dot >/dev/null 2>&1; then exit 0; fi
if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null
elif command -v brew >/dev/null 2>&1; then
    brew install graphviz
elif command -v conda >/dev/null 2>&1; then
    conda install -y -c conda-forge graphviz
else
    echo "Graphviz's 'dot' is missing: install the 'graphviz' package of your system" >&2
    exit 1
fi
command -v dot >/dev/null
