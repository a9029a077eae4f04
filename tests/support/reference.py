"""Reference material shared by tests: where the real data lives, and answers written out by hand."""



#: The published R x F segment map, written out cell by cell independently of the rule table
#: (rows R=5 .. 1, columns F=1 .. 5); M plays no part.
GRID_5 = {
    5: ["New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal Customers", "Loyal Customers"],
    3: ["About To Sleep", "About To Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"],
}
