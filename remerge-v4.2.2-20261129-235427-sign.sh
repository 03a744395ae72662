#!/bin/sh
# Sign the manifest lists remerge published (what CI's merge job runs).
set -e
cosign sign --yes --recursive --registry-referrers-mode=oci-1-1 127.0.0.1:42561/go-skynet/local-ai-backends@sha256:ecec8f9c15db6a8f764a6fa7090cb5ae0e9b095f45d98bdbac8e88381247bd4e
