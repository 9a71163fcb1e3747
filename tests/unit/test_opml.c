/* test_opml.c: placeholder until the module lands: reports SKIP. */
int main(void) { return 77; }
