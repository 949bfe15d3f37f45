# Expected values for tests/analysis/testwise_test.cpp: compare and correlate
# test each variable (pair) on the rows that hold it, as t.test and cor.test
# do when called on one variable (pair) at a time.
# Run: Rscript tests/reference/analysis_testwise.R
p <- function(name, x) cat(sprintf("%s = %.15g\n", name, x))
g <- c("a", "a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "b", "b")
y <- c(5.1, 4.8, NA, 6.0, 5.5, 5.9, 6.8, 7.1, 6.2, 7.4, 6.9, 7.7, 6.0)
x <- c(1.2, 1.9, 1.4, 2.2, NA, 1.1, 2.5, 2.0, 2.9, 2.4, 3.1, 1.8, 2.6)
t <- t.test(y[g == "a"], y[g == "b"], var.equal = TRUE)
p("t.y.statistic", t$statistic); p("t.y.p", t$p.value); p("t.y.n", sum(!is.na(y)))
t <- t.test(x[g == "a"], x[g == "b"], var.equal = TRUE)
p("t.x.statistic", t$statistic); p("t.x.p", t$p.value); p("t.x.n", sum(!is.na(x)))
c <- cor.test(x, y)
p("cor.r", c$estimate); p("cor.p", c$p.value); p("cor.n", c$parameter + 2)
