# Expected values for tests/analysis/levels_test.cpp: models whose categorical
# predictor holds fewer levels in the rows used than in the frame. lm and glm
# drop unused levels, so the first level present is the reference.
# Run: Rscript tests/reference/analysis_levels.R
d <- data.frame(
  y = c(1.0, 1.4, 0.8, 1.9, 2.3, 1.7, 4.2, 3.6, 3.9, 2.1, 1.5, 2.6, 4.4, 3.1, 3.8),
  f = c("a", "a", "a", "b", "b", "b", "c", "c", "c", "b", "b", "b", "c", "c", "c"),
  s = c(rep("m", 9), rep("w", 6)),
  z = c(0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1))
p <- function(name, x) cat(sprintf("%s = %.15g\n", name, x))
# The stratum s = w holds no 'a': reference 'b', term 'fc'.
w <- summary(lm(y ~ f, data = d, subset = s == "w"))$coefficients
print(w)
p("w.intercept", w["(Intercept)", "Estimate"]); p("w.fc", w["fc", "Estimate"]); p("w.fc.se", w["fc", "Std. Error"])
p("w.fc.p", w["fc", "Pr(>|t|)"])
# Missing outcomes remove every 'a': the same model overall.
d2 <- d; d2$y[d2$f == "a"] <- NA
m2 <- summary(lm(y ~ f, data = d2))$coefficients
print(m2)
p("na.fc", m2["fc", "Estimate"]); p("na.fc.se", m2["fc", "Std. Error"])
# logistic of z, the 'a' rows removed by a missing outcome.
d2$z[d2$f == "a"] <- NA
g <- summary(glm(z ~ f, family = binomial, data = d2))$coefficients
print(g)
p("glm.fc", g["fc", "Estimate"]); p("glm.fc.se", g["fc", "Std. Error"])
# prevalence of y by cut(x, c(10, 20, 30)): the level 10-20 holds no row. The
# trend test on the table as shown scores the levels 1, 2, 3, 4; chisq.test
# of the observed levels warns of expected counts below 5.
y <- c(0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0)
x <- c(5, 5, 5, 5, 5, 25, 25, 25, 25, 25, 35, 35, 35, 35, 35)
events <- c(1, 0, 4, 4); totals <- c(5, 0, 5, 5)
tr <- prop.trend.test(events, totals)
p("trend.statistic", tr$statistic); p("trend.p", tr$p.value)
ch <- withCallingHandlers(chisq.test(rbind(c(1, 4, 4), c(4, 1, 1))),
                          warning = function(w) { cat("chisq.test warns:", conditionMessage(w), "\n")
                                                   invokeRestart("muffleWarning") })
p("chisq.statistic", ch$statistic); p("chisq.p", ch$p.value)
# Text levels in the order factor() gives them (R 4.2, C.UTF-8 with ICU
# collation; en_US.UTF-8 gives the same): case ignored first, lower case first.
x <- c("1.5", "10", "2", "a_1", "a-1", "a1", "A1", "a10", "a2", "e", "f", "zulu", "Zulu", "Yes", "no", "a b", "ab", "_x")
cat("levels:", paste0("'", levels(factor(x)), "'", collapse = ", "), "\n")
