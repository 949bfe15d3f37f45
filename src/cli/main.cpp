#include "cli/commands.h"

int main(int argc, char** argv) { return cohortdb::cli::Run(argc, argv); }
