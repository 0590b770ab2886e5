#!/usr/bin/env bash
# Runs the GPU benchmark (main.go) on a headless NVIDIA machine following
# /work/shared/gpu/README.md: unpack the loader packages fetched with
# get-loaders.sh (DEBS, default bench/gpu/debs) when libvulkan.so.1 is
# missing, point the loader at the NVIDIA ICD, and run.
set -euo pipefail
cd "$(dirname "$0")/../.."
debs=${DEBS:-bench/gpu/debs}
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
	for f in "$debs"/*.deb; do dpkg -x "$f" /; done
	ldconfig
fi
for root in /usr/local/nvidia /usr; do
	if [ -f "$root/share/vulkan/icd.d/nvidia_icd.json" ]; then
		export VK_DRIVER_FILES="$root/share/vulkan/icd.d/nvidia_icd.json"
		export __EGL_VENDOR_LIBRARY_FILENAMES="$root/share/glvnd/egl_vendor.d/10_nvidia.json"
		break
	fi
done
# A machine without Go runs the binary built beforehand with
#   go build -o bench/gpu/gpu ./bench/gpu
if [ -x bench/gpu/gpu ]; then
	exec bench/gpu/gpu "$@"
fi
exec go run ./bench/gpu "$@"
