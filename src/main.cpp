// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/commands.hpp"

int main(int argc, char** argv) { return vmtune::app::run(argc, argv); }
