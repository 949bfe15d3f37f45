# Reference values for tests/stats/test_probability.cpp (R 4.2.2 p*/q* functions).
# Run: Rscript tests/reference/stats_probability.R
p <- function(n, v) cat(sprintf("%s = %.17g\n", n, v))
p("pt", pt(2.5, 7, lower.tail = FALSE)); p("pt2", 2 * pt(-1.3, 3.5)); p("qt", qt(0.975, 12.3))
p("pnorm", pnorm(-3.1)); p("qnorm", qnorm(0.9)); p("pchisq", pchisq(7.3, 3, lower.tail = FALSE))
p("pf", pf(3.7, 2, 40, lower.tail = FALSE)); p("tiny", pchisq(400, 2, lower.tail = FALSE))
