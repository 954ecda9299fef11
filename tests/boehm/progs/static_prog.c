/* A statically linked program: no preloaded library can reach it. */
int main(void)
{
    return 0;
}
