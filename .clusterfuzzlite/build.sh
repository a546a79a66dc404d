#!/bin/bash -eu
# ClusterFuzzLite runs $SRC/build.sh; the real one lives at the top of the
# repository so that OSS-Fuzz and local CI use the same script.
exec "$SRC/pagetorture/build.sh"
