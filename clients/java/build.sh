#!/usr/bin/env bash
# Builds the Java client (generated code, google.rpc details, helpers, the live test driver
# and the example) offline with javac against Debian's jars (scripts/install-debian-packages
# installs them): grpc-java 1.41 and protobuf-java 3.21, no Maven Central needed.
# Usage: clients/java/build.sh OUT_DIR   (writes OUT_DIR/classes and OUT_DIR/classpath, the
# Debian jars to run with:
#   java -cp "OUT_DIR/classes:$(cat OUT_DIR/classpath)" io.github.fapiaogateway.examples.ReadAndLock ...)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
jars=/usr/share/java
classpath=""
# Not proto-google-common-protos: Debian's (1.16) has no ErrorInfo; src/googleapis has them all.
for jar in grpc-api grpc-context grpc-core grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub \
  protobuf protobuf-util guava gson perfmark-api error_prone_annotations jsr305 geronimo-annotation-1.3-spec \
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-codec-socks netty-common \
  netty-handler netty-handler-proxy netty-resolver netty-transport; do
  if [ ! -f "$jars/$jar.jar" ]; then
    echo "clients/java/build.sh: $jars/$jar.jar is missing; run scripts/install-debian-packages" >&2
    exit 2
  fi
  classpath="$classpath${classpath:+:}$jars/$jar.jar"
done
rm -rf "$out/classes"
mkdir -p "$out/classes"
find "$here/src" -name '*.java' > "$out/sources"
javac -encoding UTF-8 -nowarn -d "$out/classes" -cp "$classpath" @"$out/sources"
echo "$classpath" > "$out/classpath"
