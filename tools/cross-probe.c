/* A trivial program: tools/cross-run.sh runs it to learn whether this
 * kernel can execute binaries of a cross target. */
int main(void) { return 0; }
