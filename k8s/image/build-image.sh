#!/usr/bin/env bash
# Builds the job image(s) from the Maven build: the shaded job jar into usrlib/, DJL and its runtime
# dependencies (resolved from ~/.m2 by the dependency plugin, versions from the root pom) into lib/.
#
#   k8s/image/build-image.sh                  # CPU image ctr-ranker-job:<project version>
#   k8s/image/build-image.sh --gpu            # and the GPU image ctr-ranker-job-gpu:<project version>
#   k8s/image/build-image.sh --context-only   # only assemble the build context (no Docker needed)
#   REGISTRY=registry.example.com/ads k8s/image/build-image.sh --gpu --push
#   LIBTORCH_SHA256=<checksum you verified> k8s/image/build-image.sh --gpu   # pins the CUDA libtorch archive
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
image_dir="$root/k8s/image"
context="$image_dir/target/context"
gpu=false push=false context_only=false
for arg in "$@"; do
  case "$arg" in
    --gpu) gpu=true ;;
    --push) push=true ;;
    --context-only) context_only=true ;;
    *) echo "unknown argument: $arg" >&2; exit 64 ;;
  esac
done

cd "$root"
# The project version (root pom, two-space indent = the project's own <version>) is the image tag.
version=$(sed -n 's|^  <version>\(.*\)</version>$|\1|p' pom.xml | head -n 1)
[ -n "$version" ] || { echo "no project version in $root/pom.xml" >&2; exit 1; }

# `clean package`: the shade plugin would otherwise re-shade its own previous output.
mvn -B -q -pl flink-jobs -am clean package -DskipTests

rm -rf "$context"
mkdir -p "$context/lib" "$context/usrlib"
cp "flink-jobs/target/ctr-flink-jobs-$version-job.jar" "$context/usrlib/ctr-ranker-job.jar"
# DJL and what it needs at run time (gson, JNA, commons-compress...) = the runtime closure of the models
# module, which depends on nothing but DJL. slf4j is already in Flink's lib/.
mvn -B -q -pl models dependency:copy-dependencies \
  -DincludeScope=runtime -DexcludeGroupIds=org.slf4j \
  -DoutputDirectory="$context/lib"
echo "build context: $context"
ls -l "$context/lib" "$context/usrlib"

$context_only && exit 0

prefix=${REGISTRY:+$REGISTRY/}
docker build -f "$image_dir/Dockerfile" --build-arg "CTR_VERSION=$version" \
  -t "ctr-ranker-job:$version" -t "${prefix}ctr-ranker-job:$version" "$context"
if $gpu; then
  docker build -f "$image_dir/Dockerfile.gpu" --build-arg "CTR_VERSION=$version" \
    ${LIBTORCH_SHA256:+--build-arg "LIBTORCH_SHA256=$LIBTORCH_SHA256"} \
    -t "${prefix}ctr-ranker-job-gpu:$version" "$context"
fi
if $push; then
  [ -n "$prefix" ] || { echo "--push needs REGISTRY" >&2; exit 64; }
  docker push "${prefix}ctr-ranker-job:$version"
  if $gpu; then docker push "${prefix}ctr-ranker-job-gpu:$version"; fi
fi
