#include <malloc.h>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // Blocks of 128 KiB and more (frame columns, design matrices, cached
  // columns) are mapped and go back to the system when freed. glibc would
  // otherwise raise this threshold to the size of the first such block freed
  // and serve later ones from a heap that keeps freed memory: 197 MB instead
  // of 161 MB peak for lmm at 500,000 x 3 (docs/PERFORMANCE.md).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  return cohortdb::cli::Run(argc, argv);
}
