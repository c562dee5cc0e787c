"""Calculator: add, subtract, multiply or divide by an operand."""


class Calculator:
    """Applies an arithmetic operation with a fixed operand; dividing by zero gives an error dict."""

    def __init__(self, operation="add", operand=0):
        self.operation = operation
        self.operand = operand

    def process(self, data):
        if self.operation == "add":
            return data + self.operand
        if self.operation == "subtract":
            return data - self.operand
        if self.operation == "multiply":
            return data * self.operand
        if self.operation == "divide":
            if self.operand == 0:
                return {"error": "division by zero", "input": data}
            return data / self.operand
        return {"error": "unknown operation: " + str(self.operation), "input": data}
