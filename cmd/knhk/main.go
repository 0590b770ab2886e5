// This file implements the knhk command's entry point.

package main

import "os"

func main() { os.Exit(Main()) }
