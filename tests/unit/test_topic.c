/* test_topic.c: placeholder until the module lands: reports SKIP. */
int main(void) { return 77; }
