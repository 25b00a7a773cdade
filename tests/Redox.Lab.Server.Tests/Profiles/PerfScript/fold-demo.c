#include <stdio.h>
static volatile unsigned long sink;
__attribute__((noinline)) void leaf(int n){for(int i=0;i<n;i++) sink+=i*i;}
__attribute__((noinline)) void mid(int n){leaf(n); leaf(n/2);}
__attribute__((noinline)) void top(int n){for(int i=0;i<200;i++) mid(n);}
int main(){top(200000); printf("%lu\n", sink); return 0;}
